"""Write media.jsonl and queries.jsonl for the cold-start propagation set (run once; outputs are committed).

Every drawing of Debian's openclipart-png whose file title starts with a WordNet noun is mapped to one
noun synset: the most frequent sense of the title's longest leading noun (one or two words, after a
leading colour/size word) that lies under the anchor synsets of the drawing's folder (``ANCHORS``),
e.g. ``animals/`` → organism, ``food/`` → food or plant part. Drawings in folders that show no noun
(stars, icons, flags, patterns, cards …) are skipped, byte-identical copies are kept once, and the
mappings a person found wrong on the contact sheets are dropped (``WRONG``) or relabelled (``FIX``).
Run: ``python evalsets/coldstart/build_manifest.py [--sheets DIR]`` (``--sheets`` also writes contact
sheets of 20 drawings with their senses, for checking).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = Path("/usr/share/openclipart/png")
WORDNET = Path("/usr/share/wordnet")
OC = "deb:openclipart-png:"
MAX_SIDE = 4000

# folders (prefixes) that hold no drawable noun, or whose titles name something else than what is drawn
SKIP = ("shapes/", "computer/icons", "computer/buttons", "signs_and_symbols/", "special/", "logos/",
        "buttons/", "transportation/aiga-symbols", "transportation/roadsigns", "recreation/games/cards",
        "people/smilies", "people/stickmen")

# folder prefix -> sense ids one of which must be an ancestor of (or be) the chosen synset; the longest prefix wins
PHYSICAL = "n00001930"  # physical_entity
ORGANISM, ANIMAL, PLANT, PLANT_PART = "n00004475", "n00015388", "n00017222", "n13086908"
FOOD, FOOD_SOLID, BEVERAGE = "n00021265", "n07555863", "n07881800"
ARTIFACT, INSTRUMENTALITY, STRUCTURE, CONVEYANCE = "n00021939", "n03575240", "n04341686", "n03100490"
PERSON, BODY_PART, CLOTHING, CELESTIAL, GEO_FORMATION = "n00007846", "n05220461", "n03051540", "n09239740", "n09287968"
ANCHORS: dict[str, tuple[str, ...]] = {
    "": (ARTIFACT,),
    "unsorted/": (ARTIFACT, ANIMAL, PLANT, FOOD, PLANT_PART),
    "animals/": (ANIMAL,),
    "plants/": (PLANT, PLANT_PART),
    "food/": (FOOD, FOOD_SOLID, BEVERAGE, PLANT_PART),
    "buildings/": (STRUCTURE, ARTIFACT),
    "transportation/": (CONVEYANCE, INSTRUMENTALITY, STRUCTURE),
    "people/": (PERSON, BODY_PART, CLOTHING),
    "people/clothing": (CLOTHING,),
    "recreation/religion": (ARTIFACT, PERSON),
    "science/astronomy": (CELESTIAL, INSTRUMENTALITY),
    "geography/": (GEO_FORMATION, ARTIFACT),
}
LEAD = {"red", "blue", "green", "yellow", "black", "white", "grey", "gray", "pink", "purple", "brown",
        "golden", "gold", "silver", "small", "big", "little", "simple", "old", "new", "cartoon", "cute", "happy", "bw",
        "funny", "tiny", "large", "dark", "light", "glossy", "shiny", "colorful", "plain", "wooden", "modern"}

# lemmas whose most frequent WordNet sense is not the one drawn (read from the glosses): the sense to try first
LEMMA_SENSE: dict[str, list[str]] = {
    "hammer": ["n03481172"], "cake": ["n07628870"], "cone": ["n07614730"], "dolphin": ["n02068974"],
    "seahorse": ["n01456756"], "sea_horse": ["n01456756"], "folder": ["n03376279"], "pin": ["n03940256"],
    "plate": ["n03959485"], "runner": ["n10542761"], "fireman": ["n10091651"], "joystick": ["n03602883"],
    "lorry": ["n04490091"], "lollipop": ["n07607605"], "christmas_tree": ["n03026626"], "monitor": ["n03782190"],
    "notebook": ["n03832673"], "angel": ["n09538915"], "balloon": ["n02782329"], "barrel": ["n02795169"],
    "book": ["n02870092"], "television": ["n04405907"], "tv": ["n04405907"], "tram": ["n04335435"],
    "tramway": ["n04335435"], "keyboard": ["n03085013"], "stamp": ["n04299963"],
    "spaghetti": ["n07699914"], "bike": ["n02834778"], "boy": ["n10285313"],
}
# title words that name no drawable thing here (adjectives read as nouns, abstractions, names)
STOP = {"access", "adult", "female", "bad_guy", "buddy", "youngster", "kid", "enthusiast", "don", "generic",
        "creation", "construction", "mix", "green", "simple", "left", "right", "sand", "john", "set", "flat",
        "panel", "park", "glossy", "note", "mobile", "black_and_white", "sport", "alien", "paper", "port",
        "network", "mail", "rubber", "video", "wire", "wireless", "toy", "tower", "stack", "storage", "stripper",
        "square", "switch", "thong", "mount", "corn", "landscape", "bb", "tool", "food", "menu", "wedge", "route",
        "memory", "browser", "server", "fondue", "breakfast", "silhouette"}
# Checked by a person on the contact sheets (all 946 drawings the rules above map, 38 sheets of 25): the
# drawings whose sense was wrong and could not be fixed (WRONG, dropped: road signs, cursors, diagrams, empty
# renders, title words that name something else) and those relabelled to what is drawn (FIX: path -> sense id).
WRONG: set[str] = {
    'animals/baby-tux_alex_kuehne_01.png',  # baby
    'animals/birds/baby_tux_01.png',  # baby
    'animals/birds/baby_tux_rory_mccann_01.png',  # baby
    'animals/birds/duck_yellow_ii_kurt_cagl_.png',  # duck
    'animals/dragon_head_nicu_buculei_01.png',  # dragon
    'animals/fish/dolphin_01.png',  # dolphin
    'animals/fish/giraffe_cichlid_01.png',  # giraffe
    'animals/mammals/housecats/cat_scrathing_post_benji_01.png',  # cat
    'buildings/brick_frouke_01.png',  # brick
    'buildings/homes/houses_jon_phillips_01.png',  # house
    'buildings/school_hallway_gerald_g._01.png',  # school
    'computer/gateway_andy_fitzsimon_r.png',  # gateway
    'computer/hardware/desktop.png',  # background
    'computer/internet_zazou.png',  # internet
    'computer/model-view-controller_ia_01.png',  # model
    'computer/mouse_pointer_wolfram_es_01.png',  # mouse
    'computer/mouse_pointer_wolfram_es_02.png',  # mouse
    'computer/mouse_pointer_wolfram_es_03.png',  # mouse
    'computer/pale_server_teudimundo_01.png',  # picket
    'computer/pc_speaker_joel_montes_d_01.png',  # personal computer
    'computer/router_andy_fitzsimon_r.png',  # router
    'computer/satellite_hub_zazou.png',  # satellite
    'containers/ammo_can_ganson.png',  # ammunition
    'decorations/diamante_illuminati_ingo_.png',  # sequin
    'education/paint.png',  # paint
    'electronics/antenna.png',  # antenna
    'electronics/bulb/light_bulb_karl_bartel_01.png',  # light bulb
    'electronics/satellite_dish_ali_hussn_01.png',  # satellite
    'food/beverages/alcohol/wine_corks_ganson.png',  # wine
    'food/breads_and_carbs/garlic_toast.png',  # garlic
    'food/breads_and_carbs/garlic_toast_bw.png',  # garlic
    'food/breads_and_carbs/hash_browns.png',  # hash
    'food/breads_and_carbs/hash_browns_bw.png',  # hash
    'food/fruit/prune.png',  # prune
    'food/meats_and_eggs/chicken_burger.png',  # chicken
    'food/meats_and_eggs/chicken_burger_bw.png',  # chicken
    'food/meats_and_eggs/egg_muffin.png',  # egg
    'food/onion_rings.png',  # onion
    'food/onion_rings_bw.png',  # onion
    'food/picnic_01.png',  # picnic
    'geography/earth_and_north_star_dan_01.png',  # ground
    'geography/mountain_seal_mitchell_j_.png',  # mountain
    'office/cross_hand_drawn_linda_k_01.png',  # cross
    'office/cross_hand_drawn_linda_k_02.png',  # cross
    'office/large_braces.svg_amos_01.png',  # brace
    'office/laser_pointer_on_screen_01.png',  # laser
    'people/bodypart/reminder-hand_benji_park_01.png',  # admonisher
    'people/boy_symbol_01_01.png',  # male child
    'people/card_figure_jack_nicu_r.png',  # wag
    'people/card_figure_joker_nic_r.png',  # wag
    'people/card_figure_king_nicu_r.png',  # wag
    'people/card_figure_queen_nic_r.png',  # wag
    'people/einstein_01.png',  # genius
    'people/fireman_alarm_mimooh_01.png',  # fireman
    'people/fireman_enrique_meza_c_01.png',  # fireman
    'people/fireman_wedding_mimooh_01.png',  # fireman
    'people/maya_head_benji_park_01.png',  # Mayan
    'people/self_portrait_hardi1.png',  # self
    'people/signore_architetto_franc_01.png',  # signore
    'people/signorina_architetto_fra_01.png',  # signorina
    'people/woman_eye_lumen_design_s_01.png',  # woman
    'people/woman_eyes_lumen_design__01.png',  # woman
    'plants/cannabis_leaf_anonymous_.png',  # cannabis
    'plants/flowers/cartoon_tree_01.png',  # tree
    'recreation/holiday/valentines/hearth_christoph_brill_01.png',  # fireplace
    'recreation/knitting.png',  # knit
    'recreation/knitting_01.png',  # knit
    'recreation/music/trumpet_harmon_mute__ganson.png',  # cornet
    'recreation/music/trumpet_straight_mute_ganson.png',  # cornet
    'recreation/religion/empty_tomb_01.png',  # cenotaph
    'recreation/sports/badminton_racket_brice_b_01.png',  # badminton racket
    'recreation/sports/football_pitch__andy_bur_01.png',  # football
    'recreation/sports/surfboard_jurgen_01.png',  # surfboard
    'recreation/toys/cartes_guillaume_boitel_.png',  # cart
    'science/astronomy/moon_jasper_van_de_grond_01.png',  # Moon
    'science/scale_01.png',  # scale
    'tools/axe_peterm_.png',  # ax
    'tools/brush_roller_costea_bogd_01.png',  # brush
    'tools/bucket_michael_moore_.png',  # bucket
    'tools/compass_01.png',  # compass
    'tools/electric_lighter_joel_mo_01.png',  # electric
    'tools/green_burner_01.png',  # burner
    'tools/nail_puller_peterm_.png',  # nail
    'tools/weapons/little_boy_-_atomic_bom_01.png',  # male child
    'tools/weapons/spider_sword_celso_junio_01.png',  # spider
    'tools/wrench_jarno_vasamaa_01.png',  # wrench
    'transportation/airplane.png',  # airplane
    'transportation/bus_opposite.png',  # bus
    'transportation/buses_and_bikes.png',  # bus
    'transportation/cycle_lane.png',  # bicycle
    'transportation/cycles.png',  # bicycle
    'transportation/drawbridge.png',  # drawbridge
    'transportation/horse.png',  # horse
    'transportation/lorry_length.png',  # truck
    'transportation/roundabout.png',  # carousel
    'transportation/tram.png',  # streetcar
    'transportation/trams_only.png',  # streetcar
    'transportation/vehicles/cycle_lane.png',  # bicycle
    'transportation/vehicles/cycle_route.png',  # bicycle
    'unsorted/angel_01.png',  # angel
    'unsorted/ape_miele.png',  # ape
    'unsorted/caterpillar.png',  # caterpillar
    'unsorted/movie_fudriot_omic.ch_01.png',  # movie
    'unsorted/pavement_frouke_01.png',  # pavement
    'unsorted/rilievo_rollandin_archit_01.png',  # relief
    'unsorted/rock_RPSWB.png',  # rock candy
    'unsorted/scissors_RPSWB.png',  # scissors
}
FIX: dict[str, str] = {
    'animals/birds/turkey_on_platter_01.png': 'n07647731',  # not turkey
    'animals/seal_sek_.png': 'n02081571',  # not seal
    'computer/classic_phone_zazou.png': 'n04401088',  # not classic
    'computer/crt_monitor_01.png': 'n03782190',  # not cathode-ray tube
    'computer/hardware/Computer-Keyboardlayout-de.png': 'n03085013',  # not computer
    'computer/keyboard_key_yemu.png': 'n03613592',  # not computer keyboard
    'education/paint_brush_linda_kim_01.png': 'n02908217',  # not paint
    'food/beverages/flower-pot_01.png': 'n02877266',  # not flower
    'food/fruit/pear_jean-victor_balin_01r.png': 'n07739125',  # not pear
    'geography/earth_globe_dan_gerhrads_01.png': 'n03440512',  # not ground
    'office/clips_architetto_frances_01.png': 'n03886762',  # not cartridge holder
    'office/desk_lamp_gerald_g._01.png': 'n03636248',  # not desk
    'people/bodypart/left_hand_print_benji_pa_01.png': 'n05564590',  # not left
    'people/bodypart/right_hand_print_benji_p_01.png': 'n05564590',  # not right
    'people/donna_incinta_architetto_01.png': 'n10787470',  # not donna
    'plants/tree_branches_and_roots_01.png': 'n13104059',  # not limb
    'recreation/music/cello_mo_01.png': 'n04536866',  # not cello
    'recreation/music/cello_mo_02.png': 'n04536866',  # not cello
    'recreation/sports/football_ball_brice_boye_01.png': 'n04254680',  # not football
    'recreation/sports/handball_ball_brice_boye_01.png': 'n04254680',  # not handball
    'tools/mag1.png': 'n03484931',  # not magazine
    'tools/mag2.png': 'n03484931',  # not magazine
    'tools/mag3.png': 'n03484931',  # not magazine
    'tools/mag4.png': 'n03484931',  # not magazine
    'tools/paint_brush_costea_bogda_01.png': 'n02908217',  # not paint
}


def read_wordnet() -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, tuple[str, str]]]:
    """(lemma -> sense ids in frequency order, sense -> parents, sense -> (label, gloss)) from WordNet 3.0."""
    index: dict[str, list[str]] = {}
    for line in open(WORDNET / "index.noun", encoding="utf-8"):
        if line.startswith("  "):
            continue
        f = line.split()
        n, p = int(f[2]), int(f[3])
        index[f[0]] = ["n" + o for o in f[6 + p: 6 + p + n]]
    parents: dict[str, list[str]] = {}
    info: dict[str, tuple[str, str]] = {}
    for line in open(WORDNET / "data.noun", encoding="utf-8"):
        if line.startswith("  "):
            continue
        head, _, gloss = line.partition(" | ")
        f = head.split()
        w = int(f[3], 16)
        i = 4 + 2 * w
        ptrs = [(f[i + 1 + 4 * j], f[i + 2 + 4 * j]) for j in range(int(f[i]))]
        sid = "n" + f[0]
        parents[sid] = ["n" + o for s, o in ptrs if s in ("@", "@i")]
        if any(s == "@i" for s, _ in ptrs) and not any(s == "@" for s, _ in ptrs):
            parents.setdefault("__instances__", []).append(sid)
        info[sid] = (f[4].replace("_", " "), gloss.strip())
    return index, parents, info


def ancestors(sid: str, parents: dict[str, list[str]]) -> set[str]:
    seen, todo = {sid}, [sid]
    while todo:
        for p in parents.get(todo.pop(), ()):
            if p not in seen:
                seen.add(p)
                todo.append(p)
    return seen


def title_tokens(path: Path) -> list[str]:
    """Lower-case word tokens of a file title, digits and single letters dropped."""
    toks = re.split(r"[^a-z]+", path.stem.lower())
    return [t for t in toks if len(t) > 1]


def singular(tok: str, index: dict[str, list[str]]) -> list[str]:
    out = [tok]
    for suf, rep in (("ies", "y"), ("es", ""), ("s", "")):
        if tok.endswith(suf) and len(tok) > len(suf) + 2:
            out.append(tok[: -len(suf)] + rep)
    return [t for t in out if t in index]


def anchors_for(rel: str) -> tuple[str, ...]:
    best = max((p for p in ANCHORS if rel.startswith(p)), key=len)
    return ANCHORS[best]


def map_title(rel: str, index, parents, instances=frozenset()) -> tuple[str, str] | None:
    """(lemma, sense id) for a drawing's relative path, or None."""
    toks = title_tokens(Path(rel))
    anchors = set(anchors_for(rel))
    starts = [1, 0] if toks and toks[0] in LEAD else [0]
    for s in starts:
        for n in (3, 2, 1):
            if s + n > len(toks):
                continue
            *head, last = toks[s: s + n]
            for form in singular(last, index):
                lemma = "_".join([*head, form])
                if lemma in STOP:
                    return None
                if lemma in LEMMA_SENSE:
                    return lemma, LEMMA_SENSE[lemma][0]
                for sid in LEMMA_SENSE.get(lemma, index.get(lemma, ())):
                    if sid in instances and CELESTIAL not in ancestors(sid, parents):
                        continue  # a named person, place or work: the title names it, the drawing rarely shows it
                    if anchors & ancestors(sid, parents):
                        return lemma, sid
                if lemma in index:
                    return None  # the title's noun exists but no sense fits the folder: leave it out
    return None


def small_enough(path: Path, limit: int = MAX_SIDE) -> bool:
    """Whether the PNG header says both sides are at most ``limit`` pixels (huge drawings are left out)."""
    with open(path, "rb") as fh:
        head = fh.read(24)
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    return head[:8] == b"\x89PNG\r\n\x1a\n" and 0 < width <= limit and 0 < height <= limit


def candidates() -> list[dict]:
    index, parents, info = read_wordnet()
    bad = sorted({s for ss in LEMMA_SENSE.values() for s in ss} - set(info) | set(FIX.values()) - set(info))
    assert not bad, f"not WordNet 3.0 noun synsets: {bad}"
    instances = frozenset(parents.get("__instances__", ()))
    seen_bytes: set[str] = set()
    ids: set[str] = set()
    out = []
    for path in sorted(ROOT.rglob("*.png")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(SKIP):
            continue
        digest = hashlib.sha1(path.read_bytes()).hexdigest()
        if digest in seen_bytes or not small_enough(path):
            continue
        seen_bytes.add(digest)  # before the WRONG check, so a copy of a dropped drawing stays dropped
        if rel in WRONG:
            continue
        hit = map_title(rel, index, parents, instances)
        if rel in FIX:
            hit = (info[FIX[rel]][0], FIX[rel])
        if hit is None:
            continue
        lemma, sid = hit
        mid = "oc-" + re.sub(r"[^a-z0-9]+", "-", rel.lower()[:-4]).strip("-")
        while mid in ids:  # two titles that differ only in punctuation
            mid += "-b"
        ids.add(mid)
        out.append({"id": mid, "media": OC + rel,
                    "caption": lemma.replace("_", " "), "senses": [sid], "label": info[sid][0]})
    return out


def build() -> tuple[list[dict], list[dict]]:
    """Media records and one query per sense (its label; gold = every drawing mapped to it; split dev / test)."""
    media = candidates()
    by_sense: dict[str, list[str]] = defaultdict(list)
    for m in media:
        by_sense[m["senses"][0]].append(m["id"])
    labels = {m["senses"][0]: m["label"] for m in media}
    from sensegraph.gnn.evaluate import split_senses  # the protocol's seeded dev/test halves of the senses

    split = split_senses(sorted(by_sense), seed=0)
    queries = [{"id": "q-" + sid, "text": labels[sid], "kind": "plain", "gold": sorted(ids),
                "split": split[sid], "target_senses": [sid]} for sid, ids in sorted(by_sense.items())]
    for m in media:
        del m["label"]
    return media, queries


def contact_sheets(media: list[dict], folder: Path, per_sheet: int = 25, thumb: int = 180) -> int:
    """PNG sheets of ``per_sheet`` drawings, each captioned with its number and sense label."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    cols = 5
    n = 0
    for start in range(0, len(media), per_sheet):
        chunk = media[start: start + per_sheet]
        rows = (len(chunk) + cols - 1) // cols
        sheet = Image.new("RGB", (cols * thumb, rows * (thumb + 28)), "white")
        draw = ImageDraw.Draw(sheet)
        for k, m in enumerate(chunk):
            img = Image.open(ROOT / m["media"][len(OC):])
            img = img.convert("RGBA")
            bg = Image.new("RGBA", img.size, "white")
            img = Image.alpha_composite(bg, img).convert("RGB")
            img.thumbnail((thumb - 8, thumb - 8))
            x, y = (k % cols) * thumb, (k // cols) * (thumb + 28)
            sheet.paste(img, (x + 4, y + 4))
            draw.text((x + 4, y + thumb), f"{start + k} {m['label'][:26]}", fill="black")
            draw.rectangle([x, y, x + thumb - 1, y + thumb + 27], outline="grey")
        sheet.save(folder / f"sheet-{start // per_sheet:03d}.png")
        n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sheets", help="also write contact sheets (PNG, 20 drawings each) into this folder")
    ap.add_argument("--dry-run", action="store_true", help="print counts only")
    args = ap.parse_args()
    if args.sheets:
        media = candidates()
        print(f"{contact_sheets(media, Path(args.sheets))} contact sheets in {args.sheets}")
    media, queries = build()
    print(f"{len(media)} drawings, {len(queries)} senses")
    if args.dry_run:
        return
    with open(HERE / "media.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(m, ensure_ascii=False) + "\n" for m in media)
    with open(HERE / "queries.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(q, ensure_ascii=False) + "\n" for q in queries)


if __name__ == "__main__":
    main()
