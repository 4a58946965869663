"""Encoder throughput: images/s and texts/s per encoder, without the cache, with a cold and a warm cache.

    python bench/bench_encoders.py                       # default + a random small open_clip
    python bench/bench_encoders.py --images 64 --texts 512 --threads 4
    python bench/bench_encoders.py --encoder default --encoder open_clip:ViT-B-32 --pretrained openai

Images are distinct JPEG crops of the scikit-image / scikit-learn sample photos (so the cache
cannot deduplicate them); texts are distinct ImageNet class descriptions. Each measurement embeds
the whole set once after a warm-up call (model loading is not timed).
"""
from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from collections.abc import Callable

from PIL import Image


def sample_images(n: int) -> list[bytes]:
    """``n`` distinct JPEG crops of the packaged sample photos."""
    import skimage.data as sd
    from sklearn.datasets import load_sample_image

    photos = [Image.fromarray(getattr(sd, k)()).convert("RGB") for k in ("astronaut", "chelsea", "coffee", "rocket", "camera")]
    photos += [Image.fromarray(load_sample_image(k)) for k in ("china.jpg", "flower.jpg")]
    out = []
    for i in range(n):
        photo = photos[i % len(photos)]
        w, h = photo.size
        shift = 3 * (i // len(photos))
        crop = photo.crop((shift, shift, w - (shift % 17), h - (shift % 13)))
        buf = io.BytesIO()
        crop.save(buf, format="JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def sample_texts(n: int) -> list[str]:
    """``n`` distinct short captions."""
    from sensegraph.encoders.imagenet import imagenet_classes

    names = [desc.split(",")[0] for _, desc in imagenet_classes()]
    return [f"a photo of a {names[i % len(names)]} ({i})" for i in range(n)]


def rate(fn: Callable[[], object], count: int) -> float:
    """Items per second of one call of ``fn`` over ``count`` items."""
    start = time.perf_counter()
    fn()
    return count / (time.perf_counter() - start)


def bench_one(name: str, options: dict, images: list[bytes], texts: list[str]) -> list[tuple[str, str, float, float]]:
    """Rows (encoder_id, mode, images/s, texts/s) for no cache, cold cache and warm cache."""
    from sensegraph.encoders import create_encoder
    from sensegraph.encoders.cache import CachedEncoder

    encoder = create_encoder(name, **options)
    encoder.embed_media(images[:2])  # load weights, class embeddings, warm up kernels
    encoder.embed_texts(texts[:2])
    rows = [(encoder.encoder_id, "no cache", rate(lambda: encoder.embed_media(images), len(images)),
             rate(lambda: encoder.embed_texts(texts), len(texts)))]
    with tempfile.TemporaryDirectory() as tmp:
        cached = CachedEncoder(encoder, tmp)
        rows.append((encoder.encoder_id, "cache cold", rate(lambda: cached.embed_media(images), len(images)),
                     rate(lambda: cached.embed_texts(texts), len(texts))))
        rows.append((encoder.encoder_id, "cache warm", rate(lambda: cached.embed_media(images), len(images)),
                     rate(lambda: cached.embed_texts(texts), len(texts))))
        cached.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", action="append", help="encoder name (repeatable); default: default + random open_clip")
    parser.add_argument("--pretrained", default=None, help="pretrained tag or checkpoint for open_clip encoders")
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--texts", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0 = torch's default)")
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    names = args.encoder or ["default", "open_clip:ViT-S-32-alt"]
    images, texts = sample_images(args.images), sample_texts(args.texts)
    rows = []
    for name in names:
        options: dict = {"batch_size": args.batch_size}
        if name.startswith("open_clip:"):
            options.update(pretrained=args.pretrained, allow_random=args.pretrained is None)
        rows.extend(bench_one(name, options, images, texts))

    print(f"torch threads: {torch.get_num_threads()}   images: {len(images)}   texts: {len(texts)}   batch: {args.batch_size}")
    width = max(len(r[0]) for r in rows)
    print(f"{'encoder':<{width}}  {'mode':<10}  {'images/s':>9}  {'texts/s':>9}")
    for encoder_id, mode, img_rate, txt_rate in rows:
        print(f"{encoder_id:<{width}}  {mode:<10}  {img_rate:>9.1f}  {txt_rate:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
