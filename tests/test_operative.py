"""What a run is, read from an operative config.gin: base config, add-ons and model values recognised from the
bindings each config sets (no include lines: RAVE writes none)."""
from __future__ import annotations

from pathlib import Path

from services.training import operative

V2_SMALL = """
from __gin__ import dynamic_registration
# Macros:
CAPACITY = 48
LATENT_SIZE = 128
RATIOS = [4, 2, 2, 2]
SAMPLING_RATE = 44100
variational/blocks.EncoderV2.capacity = %CAPACITY
blocks.GeneratorV2.noise_module = @blocks.NoiseGeneratorV2
blocks.NoiseGeneratorV2.hidden_size = 64
blocks.NoiseGeneratorV2.noise_bands = 32
model.RAVE.encoder = @blocks.VariationalEncoder
discriminator.CombineDiscriminators.discriminators = \\
    [@discriminator.MultiPeriodDiscriminator,
     @discriminator.MultiScaleDiscriminator]
"""

V2_WITH_ADDONS = """
CAPACITY = 64
LATENT_SIZE = 16
RATIOS = [4, 4, 4, 2]
SAMPLING_RATE = 48000
blocks.EncoderV2.capacity = %CAPACITY
blocks.EncoderV2.activation = @blocks.Snake
blocks.GeneratorV2.adain = @blocks.AdaptiveInstanceNormalization
blocks.GeneratorV2.noise_module = @blocks.NoiseGeneratorV2
blocks.NoiseGeneratorV2.noise_bands = 5
cc.get_padding.mode = 'causal'
model.RAVE.discriminator = @descript_discriminator.DescriptDiscriminator
model.RAVE.encoder = @blocks.WasserteinEncoder
"""


def test_a_v2_small_run_is_recognised_with_its_values() -> None:
    found = operative.parse(V2_SMALL)
    assert found.base == 'v2_small' and found.addons == ()
    assert found.values['CAPACITY'] == 48 and found.values['RATIOS'] == [4, 2, 2, 2]
    assert found.bindings['discriminator.CombineDiscriminators.discriminators'] == \
        '[@discriminator.MultiPeriodDiscriminator, @discriminator.MultiScaleDiscriminator]'
    assert found.label == 'v2_small · capacity 48 · latent 128 · ratios 4·2·2·2 · 44.1 kHz'


def test_add_ons_are_recognised_from_their_bindings() -> None:
    found = operative.parse(V2_WITH_ADDONS)
    assert found.base == 'v2'
    assert set(found.addons) == {'causal', 'snake', 'adain', 'descript_discriminator', 'wasserstein', 'noise'}
    assert found.values['SAMPLING_RATE'] == 48000 and found.values['LATENT_SIZE'] == 16


def test_a_v1_run_and_a_folder_without_config(tmp_path: Path) -> None:
    assert operative.parse('CAPACITY = 64\nblocks.Encoder.capacity = %CAPACITY\n').base == 'v1'
    assert operative.read(tmp_path) is None
    (tmp_path / 'config.gin').write_text(V2_SMALL.replace('CAPACITY = 48', 'CAPACITY = 32'))
    spec = operative.spec(tmp_path, 'mine', None, {})
    assert spec.base == 'v2_small' and dict(spec.macros) == {'CAPACITY': 32}  # only what differs from v2_small
