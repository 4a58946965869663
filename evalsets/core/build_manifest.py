"""Write media.jsonl and queries.jsonl for the core evaluation set (run once; outputs are committed).

Every caption below was written after looking at the image. References are resolved at run time by
``sensegraph.evaluation.dataset.resolve_media`` from the installed packages; no image is copied.
Run: ``python evalsets/core/build_manifest.py`` (it also checks every sense id against WordNet 3.0).
"""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
OC = "deb:openclipart-png:"
SK = "pkg:skimage:"
SKL = "pkg:sklearn:"

# id, media reference, caption, senses (WordNet 3.0 noun synsets, most specific first)
MEDIA: list[tuple[str, str, str, list[str]]] = [
    # mouse: animal / device
    ("mouse-animal-1", OC + "animals/mammals/topo_architetto_francesc_01.png", "ink drawing of a grey mouse with whiskers and a long curling tail", ["n02330245"]),
    ("hamster-1", OC + "animals/mammals/contour_hamster.png", "black silhouette of a small rodent, a hamster", ["n02342885"]),
    ("mouse-device-1", OC + "computer/hardware/mouse.png", "white two-button computer mouse seen from above", ["n03793489"]),
    ("mouse-device-2", OC + "computer/hardware/mouse2.png", "small white computer mouse with a curled cable", ["n03793489"]),
    ("mouse-device-3", OC + "computer/hardware/mouse_scroll_fco._andrad_01.png", "grey corded computer mouse with a blue scroll wheel", ["n03793489"]),
    ("mouse-device-4", OC + "computer/mouse_the_structorr_.png", "glossy white and grey optical computer mouse", ["n03793489"]),
    # bat: animal / club
    ("bat-animal-1", OC + "animals/mammals/contour_bat.png", "black silhouette of a bat with spread wings", ["n02139199"]),
    ("bat-animal-2", OC + "animals/bat_orlando_karam_.png", "black flying bat with small red eyes", ["n02139199"]),
    ("bat-club-1", OC + "recreation/sports/baseball_bat_ganson.png", "wooden baseball bat with a black taped grip", ["n02806379"]),
    ("bat-club-2", OC + "recreation/sports/baseball_bat_bw_ganson.png", "black and white line drawing of a baseball bat", ["n02806379"]),
    ("bat-club-3", OC + "recreation/sports/cricket_bat_01.png", "cricket bat with a flat wooden blade and a red handle", ["n03132076"]),
    # seal: animal / stamp
    ("seal-animal-1", OC + "animals/mammals/seal.png", "grey seal pup sitting on its flippers", ["n02076196"]),
    ("walrus-1", OC + "animals/seal_sek_.png", "grey walrus with long white tusks sitting upright", ["n02081571"]),
    ("seal-stamp-1", OC + "education/stamp_01.png", "wooden rubber stamp with an OK imprint on its face", ["n04159058", "n03488887"]),
    ("stapler-1", OC + "office/blue_stamper_orbu_.png", "blue office stapler", ["n04303497"]),
    # star: celestial body / shape
    ("star-sky-1", OC + "science/astronomy/southen_cross_01.png", "the Southern Cross constellation drawn as five outlined stars", ["n09252970", "n09444100"]),
    ("star-sky-2", OC + "science/astronomy/southen_cross_black_01.png", "the Southern Cross constellation drawn as five black seven-pointed stars", ["n09252970", "n09444100"]),
    ("star-sky-3", SK + "hubble_deep_field.jpg", "Hubble deep field photograph: thousands of faint galaxies and stars on black space", ["n08271042", "n09444100"]),
    ("star-shape-1", OC + "shapes/stars/star.png", "glossy yellow five-pointed star with a black outline", ["n13881644"]),
    ("star-shape-2", OC + "shapes/stars/estrella_01.png", "small shiny gold five-pointed star icon", ["n13881644"]),
    ("star-shape-3", OC + "shapes/stars/star_05pt02step.png", "thin grey outline of a five-pointed star, a pentagram", ["n13881644"]),
    ("star-shape-4", OC + "shapes/star_double_tom_webb_.png", "big yellow five-pointed star with an orange border", ["n13881644"]),
    # key: lock key / lever key
    ("key-lock-1", OC + "tools/key_jordan_wiens_01.png", "black silhouette of a door key", ["n03613294"]),
    ("key-lock-2", OC + "tools/chiave_architetto_france_01.png", "shiny grey metal key with a round bow", ["n03613294"]),
    ("key-lock-3", OC + "tools/keyring_as_.png", "bunch of old-fashioned keys on a key ring, line drawing", ["n03613294"]),
    ("key-lock-4", OC + "computer/icons/key_juliane_krug_01.png", "small silver key icon", ["n03613294"]),
    ("key-lever-1", OC + "computer/keyboard_key_yemu.png", "two keyboard keys, Shift plus A, a key combination", ["n03613592"]),
    ("key-lever-2", OC + "recreation/music/piano_keys_jonathan_diet_01.png", "black and white piano keys, one octave", ["n03613592", "n03614007", "n03928116"]),
    ("keyboard-pc-1", OC + "computer/hardware/computer_keyboard_01.png", "full computer keyboard with pale green keys", ["n03085013", "n03614007"]),
    ("keyboard-pc-2", OC + "computer/hardware/keyboard.png", "grey computer keyboard drawn in perspective", ["n03085013", "n03614007"]),
    ("keyboard-pc-3", OC + "computer/hardware/keyboard_01.png", "beige computer keyboard with a number pad", ["n03085013", "n03614007"]),
    ("piano-1", OC + "recreation/music/piano_geraint_luff_01.png", "brown upright piano with its keyboard and three pedals", ["n03928116"]),
    # turkey: bird / meat / country
    ("turkey-bird-1", OC + "animals/birds/tacchino_architetto_fran_01.png", "turkey bird with a fanned orange and grey tail and a red wattle", ["n01794158"]),
    ("turkey-meat-1", OC + "food/meats_and_eggs/turkey_on_platter_01.png", "roast turkey on a white platter", ["n07647731"]),
    ("turkey-meat-2", OC + "food/turkey_platter_01_with_fruit_and_vegitables_01.png", "roast turkey on a platter with apples and carrots", ["n07647731"]),
    ("turkey-meat-3", OC + "unsorted/Tacchino_di_Natale.png", "steaming brown roast turkey in a golden dish", ["n07647731"]),
    ("turkey-flag-1", OC + "signs_and_symbols/flags/asia/turkey.png", "red flag with a white crescent and star, the flag of Turkey", ["n03354903", "n09039411"]),
    ("jack-flag-1", OC + "signs_and_symbols/flags/europe/united_kingdom/united_kingdom.png", "the Union Jack, flag of the United Kingdom", ["n03589220", "n03354903"]),
    # chips (plain)
    ("chip-food-1", OC + "food/breads_and_carbs/potato_chips.png", "pile of pale yellow potato chips", ["n07712559"]),
    ("chip-food-2", OC + "food/breads_and_carbs/potato_chips_bw.png", "black and white outline of a heap of potato crisps", ["n07712559"]),
    # tank: army / vessel
    ("tank-army-1", OC + "transportation/vehicles/m1_abrams_main_battle_tank_01.png", "line drawing of an M1 Abrams battle tank with a long gun", ["n04389033"]),
    ("tank-scuba-1", OC + "recreation/scuba_tank_01.png", "yellow scuba diving air cylinder with a valve", ["n04388743", "n02731629"]),
    ("tank-scuba-2", OC + "recreation/nitrox_scuba_tank_01.png", "yellow diving cylinder with a green Nitrox band", ["n04388743", "n02731629"]),
    # glass: drinking glass / spyglass
    ("glass-drink-1", OC + "food/beverages/glass_01.png", "tumbler with ice cubes", ["n03438257"]),
    ("glass-drink-2", OC + "food/beverages/glass.png", "clear drinking glass half full of water", ["n03438257"]),
    ("glass-drink-3", OC + "food/beverages/drinking_glass_with_red_punch_01.png", "glass filled with red fruit punch", ["n03438257"]),
    ("glass-drink-4", OC + "food/beverages/alcohol/wine_glass_christian_h._.png", "stemmed wine glass with a little rose wine", ["n03438257"]),
    ("glass-drink-5", OC + "food/beverages/alcohol/martini_glass_k_yager_01.png", "small martini glass with an olive and a splash", ["n03438257"]),
    ("glass-spy-1", OC + "geography/spyglass_vladimir_hernan_01.png", "blue extended pocket spyglass", ["n03333129"]),
    ("telescope-1", OC + "tools/telescope_01.png", "long telescope mounted on a tall tripod, line drawing", ["n04403638"]),
    ("magnifier-1", OC + "office/magnifying_glass_olivier_01.png", "small magnifying glass icon", ["n03709206"]),
    ("magnifier-2", OC + "tools/magnifying_glass_tom_kra_.png", "magnifying glass icon with a plus sign, zoom in", ["n03709206"]),
    # spade: tool / card
    ("spade-tool-1", OC + "tools/roundpointshovel_benji_p_01.png", "long-handled shovel with a red pointed blade", ["n04266486", "n04208210"]),
    ("spade-tool-2", OC + "tools/simple_shovel_jeff_simps_01.png", "thin outline of a small garden spade", ["n04266486", "n04208210"]),
    ("spade-card-1", OC + "signs_and_symbols/card_figures_-_spade_01.png", "black spade symbol from a deck of cards", ["n04266660"]),
    ("spade-card-2", OC + "recreation/games/cards/simple/simple_s_a.png", "ace of spades playing card", ["n04266660", "n03963982"]),
    ("spade-card-3", OC + "recreation/games/cards/white/white_s_5.png", "five of spades playing card", ["n04266660", "n03963982"]),
    # club: card / golf
    ("club-card-1", OC + "signs_and_symbols/card_figures_-_club_01.png", "black club trefoil symbol from a deck of cards", ["n03053788"]),
    ("club-card-2", OC + "recreation/games/cards/simple/simple_c_a.png", "ace of clubs playing card", ["n03053788", "n03963982"]),
    ("club-card-3", OC + "recreation/games/cards/white/white_c_7.png", "seven of clubs playing card", ["n03053788", "n03963982"]),
    ("club-golf-1", OC + "recreation/sports/golf_ganson.png", "golf icons: a golf bag, a flag on the green, a golf ball and a golf club", ["n03446070"]),
    ("club-golf-2", OC + "recreation/sports/golf_drive_ganson.png", "golfer in a cap swinging a golf club on a green", ["n03446070", "n10136959"]),
    # diamond: gem / card / rhombus
    ("diamond-gem-1", OC + "signs_and_symbols/money/diamond_juliane_krug_01.png", "sparkling blue cut diamond gemstone", ["n13371958"]),
    ("sapphire-1", OC + "signs_and_symbols/money/saphire_ganson.png", "large light-blue cut gemstone, a sapphire", ["n13372812"]),
    ("diamond-card-1", OC + "signs_and_symbols/card_figures_-_diamond_01.png", "red diamond suit symbol from a deck of cards", ["n03187972"]),
    ("diamond-card-2", OC + "recreation/games/cards/simple/simple_d_a.png", "ace of diamonds playing card", ["n03187972", "n03963982"]),
    ("diamond-card-3", OC + "recreation/games/cards/white/white_d_5.png", "five of diamonds playing card", ["n03187972", "n03963982"]),
    ("diamond-shape-1", OC + "special/patterns/pattern-diamond-squares-1.png", "black and white pattern of repeated rhombus shapes", ["n13882961"]),
    # heart: card / shape
    ("heart-card-1", OC + "signs_and_symbols/card_figures_-_heart_01.png", "red heart suit symbol from a deck of cards", ["n03507048"]),
    ("heart-card-2", OC + "recreation/games/cards/simple/simple_h_a.png", "ace of hearts playing card", ["n03507048", "n03963982"]),
    ("heart-card-3", OC + "recreation/games/cards/white/white_h_6.png", "six of hearts playing card", ["n03507048", "n03963982"]),
    ("heart-shape-1", OC + "recreation/holiday/valentines/heart.png", "big glossy red valentine heart", ["n13865904"]),
    ("heart-shape-2", OC + "shapes/heart_jon_phillips_01.png", "simple red heart shape with a black outline", ["n13865904"]),
    ("heart-shape-3", OC + "recreation/holiday/valentines/heart_roberto_u._01.png", "red heart button with the word Heart written on it", ["n13865904"]),
    # jack: card (the flag is above)
    ("jack-card-1", OC + "people/card_figure_jack_nicu_r.png", "jack card figure: young man with a moustache and a red cap", ["n03589093"]),
    ("jack-card-2", OC + "recreation/games/cards/simple/simple_h_j.png", "jack of hearts playing card", ["n03589093", "n03963982"]),
    ("jack-card-3", OC + "recreation/games/cards/bordered/bordered_c_j.png", "jack of clubs playing card", ["n03589093", "n03963982"]),
    # king / queen / knight: chess / cards
    ("king-chess-1", OC + "recreation/games/chess/chesspieces-king.png", "black chess king with a cross on top", ["n03618101", "n03014440"]),
    ("king-card-1", OC + "people/card_figure_king_nicu_r.png", "king card figure: bearded man with a gold crown", ["n03618219"]),
    ("king-card-2", OC + "recreation/games/cards/simple/simple_s_k.png", "king of spades playing card", ["n03618219", "n03963982"]),
    ("king-card-3", OC + "recreation/games/cards/ornamental/ornamental_h_k.png", "king of hearts playing card with an ornamental border", ["n03618219", "n03963982"]),
    ("queen-chess-1", OC + "recreation/games/chess/chesspieces-queen.png", "black chess queen silhouette", ["n04033287", "n03014440"]),
    ("queen-chess-2", OC + "recreation/games/chess/black_and_white_queens_r.png", "a white and a black chess queen side by side", ["n04033287", "n03014440"]),
    ("queen-card-1", OC + "people/card_figure_queen_nic_r.png", "queen card figure: dark-haired woman with a gold crown", ["n04033425"]),
    ("queen-card-2", OC + "recreation/games/cards/simple/simple_d_q.png", "queen of diamonds playing card", ["n04033425", "n03963982"]),
    ("queen-card-3", OC + "recreation/games/cards/bordered/bordered_h_q.png", "queen of hearts playing card", ["n04033425", "n03963982"]),
    ("knight-chess-1", OC + "recreation/games/chess/chesspieces-knight.png", "black chess knight shaped like a horse head", ["n03624767", "n03014440"]),
    ("bishop-chess-1", OC + "recreation/games/chess/chesspieces-bishop.png", "black chess bishop silhouette", ["n02844056", "n03014440"]),
    ("rook-chess-1", OC + "recreation/games/chess/chesspieces-rook.png", "black chess rook shaped like a castle tower", ["n02980625", "n03014440"]),
    ("pawn-chess-1", OC + "recreation/games/chess/chesspieces-pawn.png", "black chess pawn silhouette", ["n03901750", "n03014440"]),
    ("horse-animal-1", OC + "animals/mammals/horses/horse_1_konstantin_r._01.png", "pink horse galloping in front of a yellow sun", ["n02374451"]),
    ("horse-animal-2", OC + "animals/mammals/horses/cavallo_architetto_franc_01.png", "brown horse galloping with its mane flying", ["n02374451"]),
    ("horse-animal-3", SK + "horse.png", "black silhouette of a standing horse", ["n02374451"]),
    ("horse-animal-4", OC + "animals/mammals/horses/horse_2_konstantin_r._01.png", "green horse running among green sparkles", ["n02374451"]),
    # plant: flora / factory
    ("plant-flora-1", OC + "plants/flowers/red_flower_01.png", "red daisy-like flower on a stem with leaves growing from soil", ["n00017222", "n11669921"]),
    ("plant-flora-2", OC + "plants/sun_flower_ganson.png", "tall sunflower with leaves against a blue sky", ["n11978233", "n00017222"]),
    ("plant-flora-3", SKL + "flower.jpg", "photo of an orange dahlia flower on dark green foliage", ["n11960245", "n00017222"]),
    ("plant-factory-1", OC + "buildings/factory_gabrielle_nowick_.png", "factory building with smoking chimneys", ["n03956922", "n03316406"]),
    ("plant-factory-2", OC + "office/fabbrica_architetto_fran_01.png", "yellow industrial building with a roller door and a red chimney", ["n03956922", "n03316406"]),
    ("baby-bottle-1", OC + "food/beverages/flower-pot_02.png", "baby feeding bottle with a teat", ["n02877266"]),
    # orange (plain)
    ("orange-fruit-1", OC + "food/fruit/orange.png", "shiny orange fruit with a green stalk", ["n07747607"]),
    ("orange-fruit-2", OC + "food/fruit/orange_simple.png", "orange fruit with two green leaves, bold outline", ["n07747607"]),
    # bulb: lamp / plant bulb
    ("bulb-lamp-1", OC + "electronics/bulb/bulb.png", "glowing blue light bulb with rays", ["n03665924"]),
    ("bulb-lamp-2", OC + "electronics/bulb/lightbulb_jon_phillips_01.png", "black and white line drawing of an incandescent light bulb", ["n03665924"]),
    ("bulb-lamp-3", OC + "electronics/bulb/light_bulb_karl_bartel_01.png", "light bulb with a screw base", ["n03665924"]),
    ("bulb-plant-1", OC + "food/vegetables/onion_joerg_rosenbauer_01.png", "brown onion bulb with a green sprout", ["n12433081", "n13134059"]),
    ("bulb-plant-2", OC + "food/vegetables/aglio_architetto_frances_01.png", "garlic bulb and loose garlic cloves", ["n07818277", "n13134059"]),
    # compass (plain)
    ("compass-1", OC + "tools/bussola_mauro_olivo_01.png", "round blue compass with a red and white needle", ["n03080497"]),
    ("compass-2", OC + "tools/bussola_architetto_franc_01.png", "open gold pocket compass with a lid", ["n03080497"]),
    # palm: tree / hand
    ("palm-tree-1", OC + "plants/palmtree_b_r_kessels_.png", "black silhouette of a palm tree", ["n12582231"]),
    ("palm-tree-2", OC + "plants/island_palm_and_the_sun_01.png", "tiny island with one palm tree and the sun", ["n12582231"]),
    ("palm-hand-1", OC + "people/bodypart/hand_dennis_rutjes_01.png", "open hand held out palm up", ["n05565696", "n05564590"]),
    ("hands-1", OC + "people/bodypart/hands_lorenzo_luengo_01.png", "two hands pressed together in prayer, line drawing", ["n05564590"]),
    # cell: phone / biology / battery
    ("cell-phone-1", OC + "office/telephone/slim_cell_phone_israel_c_01.png", "blue mobile phone with a keypad and grey screen", ["n02992529"]),
    ("cell-phone-2", OC + "office/telephone/sprint_cell_phone_joel_r.png", "pale grey flip mobile phone with an antenna", ["n02992529"]),
    ("cell-phone-3", OC + "office/telephone/cellular_phone_shandy_br_.png", "small cellphone with a keypad, line drawing", ["n02992529"]),
    ("cell-bio-1", SK + "cell.png", "greyscale microscope image of a single round cell", ["n00006484"]),
    ("cell-bio-2", SK + "ihc.png", "stained tissue under a microscope: brown and blue cells", ["n00006484", "n05267345"]),
    ("cell-battery-1", OC + "electronics/battery/battery_01.png", "black and gold AA battery", ["n02810471", "n02991048"]),
    ("cell-battery-2", OC + "electronics/battery/battery_jean-victor_bali_01.png", "small orange and black battery", ["n02810471", "n02991048"]),
    # fruit and photos (plain)
    ("apple-1", OC + "food/fruit/an_apple_01.png", "red apple with a green leaf", ["n07739125"]),
    ("apple-2", OC + "food/fruit/apple_with_worm_dan_gerh_01.png", "bitten red apple with a worm coming out", ["n07739125"]),
    ("apple-3", OC + "food/fruit/apple_wedge.png", "wedge of red apple", ["n07739125"]),
    ("apple-4", OC + "food/fruit/candied_apples_ganson.png", "three shiny red candy apples on sticks", ["n07739125"]),
    ("lemon-1", OC + "food/fruit/lemon.png", "whole yellow lemon", ["n07749582"]),
    ("lime-1", OC + "food/fruit/lime_whole_ganson.png", "whole green lime with a leaf", ["n07749731"]),
    ("astronaut-1", SK + "astronaut.png", "photo of an astronaut in an orange suit in front of the US flag and a space shuttle", ["n09818022"]),
    ("coffee-1", SK + "coffee.png", "photo of an espresso in a red cup and saucer on a wooden table", ["n07920052", "n03063073"]),
    ("cat-1", SK + "chelsea.png", "close-up photo of a tabby cat's face", ["n02121620"]),
    ("rocket-1", SK + "rocket.jpg", "photo of a rocket on the launch pad at dusk", ["n04099429"]),
    ("rocket-2", OC + "transportation/vehicles/rocket.png", "cartoon silver rocket with flames", ["n04099429"]),
    ("cameraman-1", SK + "camera.png", "black and white photo of a man looking through a camera on a tripod", ["n09889539", "n02942699"]),
    ("coins-1", SK + "coins.png", "greyscale photo of old coins laid out in rows", ["n13388245"]),
    ("moon-1", OC + "geography/astronomy/moon-full.png", "grey full moon with craters", ["n09358358"]),
    ("pagoda-1", SKL + "china.jpg", "photo of a Chinese pagoda on a wooded hill by a lake", ["n03874965"]),
    ("retina-1", SK + "retina.jpg", "photo of the retina at the back of a human eye with blood vessels", ["n05426989"]),
    ("dog-1", OC + "animals/mammals/dogs/black_lab_ganson.png", "black labrador dog standing on grass", ["n02084071"]),
    ("cat-2", OC + "animals/mammals/housecats/kitten_gerald_g._01.png", "black and white fluffy kitten", ["n02121620"]),
    ("owl-1", OC + "animals/birds/owl_on_branch_ganson.png", "black and white owl perched on a branch", ["n01621127"]),
    ("penguin-1", OC + "animals/emperor_penguin_ralf_ste_01.png", "emperor penguin", ["n02055803"]),
    ("duck-1", OC + "animals/birds/duck_yellow_kurt_cagle_.png", "white cartoon duck with a yellow beak", ["n01846331"]),
    ("fish-1", OC + "animals/fish/brown_fish_01.png", "brown fish with an open mouth", ["n02512053"]),
    ("lion-1", OC + "animals/mammals/big_cats/leone_architetto_frances_01.png", "stylised lion face with a big orange mane", ["n02129165"]),
    ("tiger-1", OC + "animals/mammals/big_cats/color_tiger_susan_park_01.png", "striped tiger walking towards the viewer", ["n02129604"]),
    ("elephant-1", OC + "animals/mammals/elephant_01.png", "grey elephant on a patch of grass", ["n02503517"]),
    ("dolphin-1", OC + "animals/mammals/dolphin_01.png", "stylised blue dolphin leaping with a ball", ["n02068974"]),
    ("lizard-1", OC + "animals/lizard_guillaume_boitel_.png", "teal lizard icon in a square", ["n01674464"]),
    ("car-1", OC + "transportation/vehicles/car.png", "small red cartoon car", ["n02958343"]),
    ("bicycle-1", OC + "transportation/vehicles/bicycle_01.png", "blue racing bicycle", ["n02834778"]),
    ("plane-1", OC + "transportation/vehicles/departing_plane_01.png", "sketch of an airplane taking off in front of the sun", ["n02691156"]),
    ("guitar-1", OC + "recreation/music/guitar_ganson.png", "yellow and brown acoustic guitar", ["n03467517"]),
    ("bass-guitar-1", OC + "recreation/music/bass_guitar_a.j._ashton_.png", "light blue electric bass guitar", ["n02804123"]),
    ("violin-1", OC + "recreation/music/violin_colour_ganson.png", "brown violin lying on its side", ["n04536866"]),
    ("drum-1", OC + "recreation/music/drums_jarno_vasamaa_.png", "blue drum kit with cymbals", ["n03249569"]),
    ("hammer-1", OC + "tools/hammer_nicu_buculei_01.png", "hammer with a grey head and wooden handle", ["n03481172"]),
    ("saw-1", OC + "tools/saw_peterm_.png", "hand saw with a red handle", ["n04140064"]),
    ("laptop-1", OC + "computer/hardware/laptop_01.png", "silver laptop with an apple logo on the screen", ["n03642806"]),
    ("monitor-1", OC + "computer/crt_monitor_01.png", "old grey CRT computer monitor", ["n03782190"]),
    ("printer-1", OC + "computer/hardware/printer.png", "grey desktop inkjet printer", ["n04004767"]),
    ("lighthouse-1", OC + "buildings/lighthouse_matthew_gates_.png", "red and white striped lighthouse", ["n02814860"]),
    ("house-1", OC + "buildings/homes/small_house_01.png", "small red house with a chimney", ["n03544360"]),
    ("tennis-racket-1", OC + "recreation/sports/tennis_racket_01.png", "blue tennis racket", ["n04409806"]),
    ("baseball-glove-1", OC + "recreation/sports/baseball_glove_ganson.png", "brown leather baseball glove", ["n02800213"]),
    ("padlock-1", OC + "tools/lock.png", "yellow padlock with a black keyhole", ["n03874599"]),
    ("piggybank-1", OC + "signs_and_symbols/money/piggybank.png", "pink piggy bank with a dollar coin going into the slot", ["n03935335"]),
    ("tree-1", OC + "plants/trees/tree_01.png", "black silhouette of a tree on a rock at sunset", ["n13104059"]),
    ("lightning-1", OC + "signs_and_symbols/weather/lightning_jon_phillips_01.png", "white lightning bolt on a black sky", ["n11475279"]),
]

# (text, kind, targets): a target is a sense id (gold = every medium showing it) or a medium id.
AMBIGUOUS: dict[str, list[str]] = {
    "mouse": ["n02330245", "n03793489"],
    "bat": ["n02139199", "n02806379", "n03132076"],
    "seal": ["n02076196", "n04159058"],
    "star": ["n09444100", "n13881644"],
    "key": ["n03613294", "n03613592"],
    "turkey": ["n01794158", "n07647731", "n09039411"],
    "tank": ["n04389033", "n04388743"],
    "glass": ["n03438257", "n03333129"],
    "spade": ["n04266486", "n04266660"],
    "club": ["n03053788", "n03446070"],
    "diamond": ["n13371958", "n03187972", "n13882961"],
    "heart": ["n03507048", "n13865904"],
    "jack": ["n03589093", "n03589220"],
    "king": ["n03618101", "n03618219"],
    "queen": ["n04033287", "n04033425"],
    "horse": ["n02374451", "n03624767"],
    "plant": ["n00017222", "n03956922"],
    "bulb": ["n03665924", "n13134059"],
    "palm": ["n12582231", "n05565696"],
    "cell": ["n02992529", "n00006484", "n02991048"],
}

CONTEXT: list[tuple[str, list[str]]] = [
    ("a mouse next to the keyboard", ["n03793489"]),
    ("click the left button of the mouse to open the file", ["n03793489"]),
    ("a mouse with whiskers nibbling cheese", ["n02330245"]),
    ("the cat chased a mouse into its hole", ["n02330245"]),
    ("a bat flying out of a cave at night", ["n02139199"]),
    ("a bat hanging upside down, a small winged mammal", ["n02139199"]),
    ("swing the bat and hit a home run", ["n02806379", "n03132076"]),
    ("the batsman raised his bat at the wicket", ["n03132076"]),
    ("a seal lying on the rocks by the sea", ["n02076196"]),
    ("a seal pup with flippers and whiskers", ["n02076196"]),
    ("press the seal on the document to make it official", ["n04159058"]),
    ("a star shining in the night sky", ["n09444100"]),
    ("stars and distant galaxies in outer space", ["n09444100"]),
    ("draw a star shape with five points", ["n13881644"]),
    ("a gold star sticker for the best pupil", ["n13881644"]),
    ("a key to unlock the front door", ["n03613294"]),
    ("lost my keys, the ones on the ring for the house lock", ["n03613294"]),
    ("press the key on the computer to type a letter", ["n03613592"]),
    ("the keys of the piano, black and white", ["n03613592"]),
    ("a turkey strutting in the farmyard with its feathers spread", ["n01794158"]),
    ("roast turkey for thanksgiving dinner", ["n07647731"]),
    ("carve the turkey at the Christmas table", ["n07647731"]),
    ("the national flag of Turkey", ["n09039411"]),
    ("a tank with a cannon rolling across the battlefield", ["n04389033"]),
    ("an army tank on caterpillar tracks", ["n04389033"]),
    ("a tank of compressed air for diving underwater", ["n04388743"]),
    ("a glass of water to drink", ["n03438257"]),
    ("pour the juice into a glass", ["n03438257"]),
    ("the sailor raised his glass to look at a distant ship", ["n03333129"]),
    ("dig the garden with a spade", ["n04266486"]),
    ("a spade for shovelling soil", ["n04266486"]),
    ("a spade in a deck of playing cards", ["n04266660"]),
    ("hit the ball off the tee with a club on the golf course", ["n03446070"]),
    ("clubs, the black suit in a card game", ["n03053788"]),
    ("a diamond for an engagement ring, a precious jewel", ["n13371958"]),
    ("the diamond suit in a card game", ["n03187972"]),
    ("diamond shapes in a tiled geometric pattern", ["n13882961"]),
    ("a heart for valentine's day love", ["n13865904"]),
    ("hearts, the red suit of the playing cards", ["n03507048"]),
    ("the jack in a deck of cards, below the queen", ["n03589093"]),
    ("a jack flown at the bow of a ship to show its nation", ["n03589220"]),
    ("the king on the chessboard, checkmate", ["n03618101"]),
    ("a king in my hand of playing cards", ["n03618219"]),
    ("the queen moves across the chessboard", ["n04033287"]),
    ("the queen card in a game of poker", ["n04033425"]),
    ("a horse galloping across the meadow", ["n02374451"]),
    ("move the horse two squares on the chessboard", ["n03624767"]),
    ("a plant with green leaves and a flower in the garden", ["n00017222"]),
    ("a manufacturing plant with smoking chimneys", ["n03956922"]),
    ("screw a new bulb into the lamp", ["n03665924"]),
    ("a bulb of onion or garlic from the vegetable garden", ["n13134059"]),
    ("a palm on a tropical island beach", ["n12582231"]),
    ("the palm of your open hand", ["n05565696"]),
    ("call me on my cell", ["n02992529"]),
    ("a cell seen through the microscope in biology class", ["n00006484"]),
    ("a dry cell that powers the torch", ["n02991048"]),
]

PLAIN: list[tuple[str, list[str]]] = [
    ("a red apple", ["n07739125"]), ("an apple with a worm in it", ["apple-2"]),
    ("candy apples on sticks", ["apple-4"]), ("a slice of apple", ["apple-3"]),
    ("a yellow lemon", ["lemon-1"]), ("a green lime", ["lime-1"]),
    ("an orange, the citrus fruit", ["n07747607"]), ("potato crisps snack", ["n07712559"]),
    ("a woman astronaut in a spacesuit", ["astronaut-1"]), ("a cup of espresso coffee", ["coffee-1"]),
    ("a cat", ["n02121620"]), ("a fluffy kitten", ["cat-2"]), ("a rocket launch pad", ["rocket-1"]),
    ("a space rocket", ["n04099429"]), ("a photographer with a camera on a tripod", ["cameraman-1"]),
    ("old coins", ["coins-1"]), ("the full moon", ["moon-1"]), ("a Chinese temple on a hill", ["pagoda-1"]),
    ("the retina of an eye", ["retina-1"]), ("a black dog", ["dog-1"]), ("an owl on a branch", ["owl-1"]),
    ("a penguin", ["penguin-1"]), ("a cartoon duck", ["duck-1"]), ("a fish", ["fish-1"]),
    ("a lion's mane", ["lion-1"]), ("a striped tiger", ["tiger-1"]), ("an elephant", ["elephant-1"]),
    ("a dolphin jumping", ["dolphin-1"]), ("a lizard", ["lizard-1"]), ("a red car", ["car-1"]),
    ("a bicycle", ["bicycle-1"]), ("an airplane taking off", ["plane-1"]), ("an acoustic guitar", ["guitar-1"]),
    ("an electric bass guitar", ["bass-guitar-1"]), ("a violin", ["violin-1"]), ("a drum set", ["drum-1"]),
    ("a hammer", ["hammer-1"]), ("a handsaw for cutting wood", ["saw-1"]), ("a laptop computer", ["laptop-1"]),
    ("an old computer monitor", ["monitor-1"]), ("a printer", ["printer-1"]),
    ("a lighthouse", ["lighthouse-1"]), ("a small house with a chimney", ["house-1"]),
    ("a tennis racket", ["tennis-racket-1"]), ("a baseball mitt", ["baseball-glove-1"]),
    ("a padlock", ["padlock-1"]), ("a piggy bank for saving coins", ["piggybank-1"]),
    ("a tree at sunset", ["tree-1"]), ("lightning in a storm", ["lightning-1"]),
    ("a walrus with tusks", ["walrus-1"]), ("a hamster", ["hamster-1"]), ("an office stapler", ["stapler-1"]),
    ("a telescope on a tripod", ["telescope-1"]), ("a magnifying glass", ["n03709206"]),
    ("a sunflower", ["plant-flora-2"]), ("a dahlia in bloom", ["plant-flora-3"]),
    ("a baby's milk bottle", ["baby-bottle-1"]), ("a compass for finding north", ["n03080497"]),
    ("hands folded in prayer", ["hands-1"]), ("a chess pawn", ["pawn-chess-1"]),
    ("a chess rook", ["rook-chess-1"]), ("a chess bishop", ["bishop-chess-1"]),
    ("chess pieces", ["n03014440"]), ("the British flag", ["jack-flag-1"]),
    ("a computer keyboard", ["n03085013"]), ("an upright piano", ["piano-1"]),
    ("a blue sapphire", ["sapphire-1"]), ("a wine glass", ["glass-drink-4"]),
    ("a martini cocktail", ["glass-drink-5"]), ("a drink of red punch", ["glass-drink-3"]),
    ("a sprouting onion", ["bulb-plant-1"]), ("garlic cloves", ["bulb-plant-2"]),
    ("a mobile phone", ["n02992529"]), ("a golfer swinging", ["club-golf-2"]),
    ("the Southern Cross constellation", ["n09252970"]), ("a deep field image of galaxies", ["star-sky-3"]),
    ("playing cards", ["n03963982"]), ("a walrus or a seal", ["walrus-1", "seal-animal-1"]),
    ("a factory", ["n03316406"]), ("a rubber stamp", ["seal-stamp-1"]),
    ("a light bulb", ["n03665924"]), ("a battery", ["n02810471"]),
]


def _sense_ok(sid: str) -> bool:
    with open("/usr/share/wordnet/data.noun", "rb") as fh:
        fh.seek(int(sid[1:]))
        return fh.readline().startswith(sid[1:].encode())


def _slug(text: str) -> str:
    keep = "".join(c if c.isalnum() else "-" for c in text.lower())
    return "-".join(p for p in keep.split("-") if p)[:48]


def build() -> tuple[list[dict], list[dict]]:
    """Media and query records; gold from sense or medium targets."""
    from hashlib import sha1

    media = [{"id": i, "media": ref, "caption": cap, "senses": s} for i, ref, cap, s in MEDIA]
    ids = {m["id"] for m in media}
    assert len(ids) == len(media), "duplicate medium id"
    for m in media:
        for s in m["senses"]:
            assert _sense_ok(s), f"{m['id']}: {s} is not a WordNet 3.0 noun synset"
    first = {m["id"]: m["senses"][0] for m in media}

    def resolve(targets: list[str]) -> tuple[list[str], list[str]]:
        gold: list[str] = []
        senses: list[str] = []
        for t in targets:
            if t in ids:
                gold.append(t)
                senses.append(first[t])
            else:
                assert _sense_ok(t), t
                senses.append(t)
                gold.extend(m["id"] for m in media if t in m["senses"])
        gold = sorted(set(gold))
        assert gold, f"no gold for {targets}"
        return gold, list(dict.fromkeys(senses))

    queries = []
    specs = [(w, "ambiguous", t) for w, t in AMBIGUOUS.items()]
    specs += [(q, "ambiguous_context", t) for q, t in CONTEXT]
    specs += [(q, "plain", t) for q, t in PLAIN]
    for text, kind, targets in specs:
        qid = "q-" + _slug(text)
        gold, senses = resolve(targets)
        split = "dev" if sha1(qid.encode()).digest()[0] < 103 else "test"  # ~40 % dev
        queries.append({"id": qid, "text": text, "kind": kind, "gold": gold, "split": split,
                        "target_senses": senses})
    assert len({q["id"] for q in queries}) == len(queries), "duplicate query id"
    return media, queries


def main() -> None:
    media, queries = build()
    for name, rows in (("media.jsonl", media), ("queries.jsonl", queries)):
        with open(HERE / name, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    kinds: dict[str, int] = {}
    for q in queries:
        kinds[f"{q['kind']}/{q['split']}"] = kinds.get(f"{q['kind']}/{q['split']}", 0) + 1
    print(f"{len(media)} media, {len(queries)} queries: {dict(sorted(kinds.items()))}")


if __name__ == "__main__":
    main()
