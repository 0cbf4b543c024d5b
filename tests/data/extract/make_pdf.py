"""Write the PDF fixtures: one_page.pdf (a text layer with title and abstract) and empty.pdf (a page without
text, like a scan). Run: python tests/data/extract/make_pdf.py"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
LINES = [
    "Landslide detection with a Swin Transformer on PlanetScope images",
    "A. Researcher, B. Scientist",
    "Abstract",
    "We apply a Swin Transformer to PlanetScope images to detect earthquake-induced",
    "landslides after the 2018 Iburi earthquake in Hokkaido, Japan. The model reached",
    "an F1-score of 0.84 and outperformed U-Net.",
    "Keywords: landslide detection; Transformer",
    "1. Introduction",
    "Landslides threaten mountain communities.",
]


def _pdf(content: bytes, extra_resources: bool) -> bytes:
    font = b"/Font << /F1 4 0 R >>" if extra_resources else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << " + font + b" >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def text_page() -> bytes:
    ops = ["BT", "/F1 11 Tf", "14 TL", "72 720 Td"]
    for line in LINES:
        ops.append("(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*")
    ops.append("ET")
    return _pdf("\n".join(ops).encode("latin-1"), extra_resources=True)


def blank_page() -> bytes:
    return _pdf(b"0.9 g 72 72 468 648 re f", extra_resources=False)  # a grey box: an image-only "scan"


if __name__ == "__main__":
    (HERE / "one_page.pdf").write_bytes(text_page())
    (HERE / "empty.pdf").write_bytes(blank_page())
