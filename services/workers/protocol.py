"""The model server's wire format, shared by the server (a worker) and its client (the UI side): no torch here.

One frame is

    u32 header length | u32 body length | header: UTF-8 JSON object | body: the arrays' bytes

both lengths big-endian. The header lists the arrays the body carries, in order, as
`"arrays": [{"name": "audio", "dtype": "float32", "shape": [1, 441000]}, ...]`; their bytes are
little-endian, C order, back to back. Only float32 and int32 travel, so neither side ever unpickles
anything. A request header has `op` and `id`; the server answers with zero or more `progress` frames
and then one `result` or `error` frame carrying the same `id`. On start the server sends one `ready`
frame (or an `error` frame saying why the model did not load, then exits).
"""
from __future__ import annotations

import json
import socket
import struct

from services import lazy

np = lazy.module('numpy')  # the studio imports this module at launch; numpy comes with the first frame

PREFIX = struct.Struct('!II')
DTYPES = {'float32': '<f4', 'int32': '<i4'}  # the dtypes that travel, little-endian
MAX_HEADER = 16 * 1024 * 1024
MAX_BODY = 4 * 1024 * 1024 * 1024 - 1


class BadRequest(ValueError):
    """A request the caller must change; its message goes back as is."""


class ProtocolError(ConnectionError):
    """The other end closed the connection or sent something that is not a frame."""


def send(sock: socket.socket, header: dict, arrays: dict[str, np.ndarray] | None = None) -> None:
    """Send one frame: `header` (JSON-able) plus `arrays` (float32 or int32) as raw bytes."""
    parts, listed = [], []
    for name, value in (arrays or {}).items():
        array = np.ascontiguousarray(value)
        dtype = _wire_dtype(array)
        array = array.astype(DTYPES[dtype], copy=False)
        listed.append({'name': name, 'dtype': dtype, 'shape': list(array.shape)})
        parts.append(memoryview(array).cast('B'))
    head = json.dumps({**header, 'arrays': listed}, separators=(',', ':')).encode()
    body = sum(p.nbytes for p in parts)
    if len(head) > MAX_HEADER or body > MAX_BODY:
        raise ValueError(f'A frame of {len(head)} header bytes and {body} body bytes is too big to send.')
    sock.sendall(PREFIX.pack(len(head), body) + head)
    for part in parts:
        sock.sendall(part)


def receive(sock: socket.socket) -> tuple[dict, dict[str, np.ndarray]]:
    """Read one frame; returns (header, arrays). Raises ProtocolError on a closed or garbled connection."""
    head_size, body_size = PREFIX.unpack(_read(sock, PREFIX.size))
    if head_size > MAX_HEADER:
        raise ProtocolError(f'A frame header of {head_size} bytes is not plausible; the stream is garbled.')
    try:
        header = json.loads(_read(sock, head_size))
    except ValueError as e:
        raise ProtocolError(f'A frame header is not JSON: {e}') from e
    body = _read(sock, body_size)
    arrays, offset = {}, 0
    for spec in header.pop('arrays', []):
        dtype = np.dtype(DTYPES[spec['dtype']]) if spec.get('dtype') in DTYPES else None
        if dtype is None:
            raise ProtocolError(f'Array {spec.get("name")!r} has dtype {spec.get("dtype")!r}; '
                                'only float32 and int32 travel.')
        shape = tuple(int(n) for n in spec['shape'])
        size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if offset + size > body_size:
            raise ProtocolError(f'Array {spec["name"]!r} runs past the end of its frame.')
        arrays[spec['name']] = np.frombuffer(body, dtype, count=size // dtype.itemsize, offset=offset).reshape(shape)
        offset += size
    return header, arrays


def _wire_dtype(array: np.ndarray) -> str:
    if array.dtype.kind == 'f':
        return 'float32'
    if array.dtype.kind in 'iub':
        return 'int32'
    raise ValueError(f'Arrays of dtype {array.dtype} cannot travel; send float32 or int32.')


def _read(sock: socket.socket, size: int) -> bytearray:
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        n = sock.recv_into(view[got:], size - got)
        if n == 0:
            raise ProtocolError('The connection closed in the middle of a frame.' if got else 'The connection closed.')
        got += n
    return buffer
