"""Draws the app's icon, build/icon.png (512 x 512, no image library needed): five bars of a
next-token distribution on a rounded dark-blue square, the most likely token in the accent colour.
Run from the project folder: python3 tools/icon/make-icon.py"""
import struct
import zlib

W = H = 512
BACKGROUND = (0x1F, 0x3A, 0x5F)
BAR = (0xE8, 0xEE, 0xF6)
ACCENT = (0xF2, 0xA9, 0x3B)
BARS = [(96, 0.42), (176, 0.88), (256, 0.58), (336, 0.30), (416, 0.18)]
RADIUS = 96


def pixel(x: int, y: int) -> bytes:
    cx = min(max(x, RADIUS), W - 1 - RADIUS)
    cy = min(max(y, RADIUS), H - 1 - RADIUS)
    if (x - cx) ** 2 + (y - cy) ** 2 > RADIUS**2:
        return bytes((0, 0, 0, 0))
    colour = BACKGROUND
    for i, (centre, height) in enumerate(BARS):
        if abs(x - centre) <= 28 and 432 - int(height * 336) <= y <= 432:
            colour = ACCENT if i == 1 else BAR
    return bytes(colour + (255,))


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


raw = b"".join(b"\0" + b"".join(pixel(x, y) for x in range(W)) for y in range(H))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 6, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
with open("build/icon.png", "wb") as out:
    out.write(png)
