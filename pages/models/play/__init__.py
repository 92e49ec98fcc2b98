"""The Play pages: Generate (random latents, batches, presets), Explorer (the latent map, the sliders heard live,
interpolation, trajectories, favourites) and Transfer (content through one model or a crossfade of two)."""
