"""Audio eval (issue 21): text → audio, text-only vs sense-aware; and videos fused vs frames-only.

Sounds come from Debian's sound-theme-freedesktop (CC-BY-SA-3.0 / CC-BY-3.0 / GPL-2+, per file in
/usr/share/doc/sound-theme-freedesktop/copyright), espeak-ng speech and sox signals made here
(``items.jsonl``: a source and a caption per sound). Each group has an ``evidence`` sound, ingested
with its caption, and a ``target`` ingested without one; the target's caption is the query, so a hit
needs the sound itself (joint space) or its group's audio prototype (native space) — the sense-aware
part. Videos: four packaged photos, each given a target sound as its sound track, ingested without
captions beside the captioned photos; queries name the picture or the sound; the frames-only store
embeds the same videos from their frames alone (``MultimodalEncoder(fuse_audio=False)``).

    python evalsets/audio/run.py [--work /tmp/audio-eval]      # prints two tables
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
FREEDESKTOP = Path("/usr/share/sounds/freedesktop/stereo")
PHOTOS = [("coffee", "a cup of coffee", "phone-out", "a telephone ringing"),
          ("chelsea", "a tabby cat", "speech-2", "a man speaking"),
          ("rocket", "a rocket on the launch pad", "siren-2", "a siren wailing"),
          ("astronaut", "an astronaut", "noise-2", "static noise from a radio")]


def materialise(items: list[dict], out: Path) -> dict[str, Path]:
    """Each item's sound as a file under ``out`` (copied, spoken by espeak-ng or made by sox)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for it in items:
        kind, _, arg = it["source"].partition(":")
        if kind == "freedesktop":
            dst = out / f"{it['id']}.oga"
            shutil.copy(FREEDESKTOP / arg, dst)
        else:
            dst = out / f"{it['id']}.wav"
            if kind == "espeak":
                head, _, text = arg.partition("{out}")
                subprocess.run(["espeak-ng", *head.split(), "-w", str(dst), text.strip()], check=True)
            else:
                head, _, tail = arg.partition("{out}")
                subprocess.run(["sox", *head.split(), str(dst), *tail.split()], check=True)
        paths[it["id"]] = dst
    return paths


def kg_words(texts: list[str]) -> set[str]:
    return {w.strip(".,'s").lower() for t in texts for w in t.split() if len(w) > 2}


def open_graph(directory: Path, encoder, kg):
    from sensegraph import SenseGraph
    from sensegraph.graph.embedded import EmbeddedStore
    from sensegraph.graph.importers.report import write_batches

    shutil.rmtree(directory, ignore_errors=True)
    store = EmbeddedStore(directory)
    write_batches(store, entities=kg.entities, aliases=kg.aliases, senses=kg.senses, has_sense=kg.has_sense, relations=kg.relations)
    store.bind_encoder(encoder.encoder_id, encoder.joint_dim, encoder.native_dim)
    return SenseGraph(store, encoder=encoder)


def rank_of(hits, target: str) -> int | None:
    return next((h.rank for h in hits if h.media_id == target), None)


def summary(ranks: list[int | None]) -> tuple[float, float]:
    hit1 = sum(r == 1 for r in ranks) / len(ranks)
    mrr = sum(1 / r for r in ranks if r) / len(ranks)
    return hit1, mrr


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, default=Path("/tmp/audio-eval"))
    args = ap.parse_args()
    import skimage.data as sd
    from PIL import Image

    from sensegraph.encoders.cache import CachedEncoder
    from sensegraph.encoders.multimodal import MultimodalEncoder
    from sensegraph.graph.importers.wordnet import build_graph

    sys.path.insert(0, str(HERE.parent.parent / "tests" / "audio"))
    from sounds import clip  # the same MP4 writer the tests use

    items = [json.loads(ln) for ln in (HERE / "items.jsonl").read_text().splitlines() if ln.strip()]
    paths = materialise(items, args.work / "sounds")
    words = kg_words([it["caption"] for it in items] + [p[1] for p in PHOTOS] + [p[3] for p in PHOTOS])
    kg = build_graph(select=lambda s: any(l.lower() in words for l in s.lemmas))
    cache = args.work / "cache"
    fused_enc = CachedEncoder(MultimodalEncoder(), cache)
    frames_enc = CachedEncoder(MultimodalEncoder(fuse_audio=False), cache)

    # -- text → audio --------------------------------------------------------------------------
    records = [{"id": it["id"], "media": str(paths[it["id"]]), **({"text": it["caption"]} if it["role"] == "evidence" else {})}
               for it in items]
    photo_files = {}
    for name, caption, _, _ in PHOTOS:
        photo_files[name] = args.work / f"{name}.png"
        Image.fromarray(getattr(sd, name)()).convert("RGB").save(photo_files[name])
    images = [{"id": name, "media": str(photo_files[name]), "text": caption} for name, caption, _, _ in PHOTOS]
    sounds = {it["id"]: paths[it["id"]] for it in items}
    videos = []
    for name, _, sound_id, _ in PHOTOS:
        from sensegraph.encoders.media import decode_audio

        wave = decode_audio(sounds[sound_id].read_bytes())
        path = args.work / f"video-{name}.mp4"
        path.write_bytes(clip([Image.open(photo_files[name])], wave, seconds_each=max(2.0, wave.size / 16000)))
        videos.append({"id": f"video-{name}", "media": str(path)})

    rows = []
    stores = {}
    for label, enc in (("fused", fused_enc), ("frames-only", frames_enc)):
        sg = open_graph(args.work / f"store-{label}", enc, kg)
        if hasattr(sg.config, "propagation"):
            sg.config.propagation.auto = False  # each group's own evidence is what is measured
        rep = sg.ingest(records + images + videos)
        assert not rep.skipped, rep.skipped
        stores[label] = sg
    sg = stores["fused"]
    targets = [it for it in items if it["role"] == "target"]
    evidence = [it["id"] for it in items if it["role"] == "evidence"]
    print("text → audio (modality='audio', among the {} sounds ingested without a caption)".format(len(targets)))
    print(f"{'ranking':<28}{'hit@1':>8}{'MRR':>8}")
    for label, beta in (("text-only (beta=0)", 0.0), ("sense-aware (defaults)", None)):
        ranks = [rank_of(sg.search(it["caption"], k=len(items), modality="audio", beta=beta, filters={"exclude_ids": evidence}), it["id"])
                 for it in targets]  # ranked among the uncaptioned sounds: the captioned sibling is the evidence, not a hit
        h1, mrr = summary(ranks)
        rows.append((label, h1, mrr))
        print(f"{label:<28}{h1:>8.3f}{mrr:>8.3f}")
        print("   ranks:", dict(zip([it["id"] for it in targets], ranks)))

    print("\nvideos (modality='video', 4 videos, a query for each one's picture and one for its sound)")
    print(f"{'store':<14}{'queries':<10}{'hit@1':>8}{'MRR':>8}")
    for label in ("frames-only", "fused"):
        sgx = stores[label]
        for kind, pick in (("picture", 1), ("sound", 3)):
            ranks = [rank_of(sgx.search(p[pick], k=4, modality="video"), f"video-{p[0]}") for p in PHOTOS]
            h1, mrr = summary(ranks)
            print(f"{label:<14}{kind:<10}{h1:>8.3f}{mrr:>8.3f}   ranks {ranks}")
    gates = {p[0]: fused_enc.inner.gates(args.work / f"video-{p[0]}.mp4") for p in PHOTOS}
    print("\ngate weights (visual, audio):", {k: (round(v["visual"], 3), round(v["audio"], 3)) for k, v in gates.items()})


if __name__ == "__main__":
    main()
