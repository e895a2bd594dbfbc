"""Hand-written word banks for the storyworld generator (see ``storyworld.py``).

Every bank maps a *simple* word or phrase, checked by hand against the AO-CHILDES child-directed
vocabulary of the simplified-vocabulary paper (arXiv 2404.02204), to a tuple of *rich* alternatives:
rarer synonyms or longer phrases that tell the same fact. The simple tier only ever prints the
simple form; the rich tier picks one of the rich forms. A plan stores the simple form, so both
tiers of one story share one plan.

Apostrophes never appear in either tier (no contractions, no possessive 's): the AO-CHILDES list
stores "its" and "whats" without apostrophes, and avoiding them keeps the simple tier exactly
inside the list however a filter splits words.
"""

# --- characters -------------------------------------------------------------------------------

GIRL_NAMES = (
    "Lily", "Emma", "Lucy", "Jane", "Mary", "Amy", "Sue", "Ann", "Molly", "Ruby", "Rose", "Daisy",
    "Sally", "Laura", "Ivy", "Grace", "Amelia", "Betty", "Jenny", "Penny", "Poppy", "Anna", "Stella",
    "Donna", "Beth", "Carol", "Kim", "Holly", "Minnie", "Patty", "Lulu", "Ruth", "Kelly", "Jo",
)
BOY_NAMES = (
    "Sam", "Ben", "Jack", "Bob", "Bill", "Oliver", "Luke", "Peter", "Pete", "Nick", "Dan", "Joe",
    "Joey", "Tony", "Tommy", "Billy", "Jimmy", "Mike", "Eric", "Fred", "Harry", "Henry", "Ted",
    "Toby", "Thomas", "James", "Colin", "Martin", "Jerry", "Josh", "Jeff", "Carl", "Frank",
    "Timothy", "Christopher", "Bobby", "Terry", "Ray", "Hank", "Dennis",
)
PET_NAMES = (
    "Buddy", "Rex", "Fluffy", "Patch", "Lucky", "Coco", "Ginger", "Pepper", "Muffin", "Biscuit",
    "Sunny", "Goldie", "Rusty", "Spot",
)

# People kinds take a name from their own list; animal kinds take any name.
PEOPLE_KINDS = {
    "girl": ("lass", "schoolgirl", "maiden"),
    "boy": ("lad", "youngster", "schoolboy"),
}
ANIMAL_KINDS = {
    "dog": ("hound", "spaniel", "terrier"),
    "cat": ("tabby", "feline"),
    "bear": ("grizzly", "bear cub"),
    "rabbit": ("hare", "cottontail"),
    "duck": ("duckling", "mallard"),
    "mouse": ("field mouse", "dormouse"),
    "fox": ("red fox", "fox cub"),
    "frog": ("bullfrog", "tree frog"),
    "pig": ("piglet", "hog"),
    "owl": ("barn owl", "owlet"),
    "lion": ("lion cub",),
    "elephant": ("elephant calf",),
    "monkey": ("chimpanzee", "marmoset"),
    "bird": ("sparrow", "songbird", "robin"),
    "horse": ("pony", "steed"),
    "squirrel": ("chipmunk",),
    "turtle": ("tortoise", "terrapin"),
    "hedgehog": ("porcupine",),
    "penguin": ("emperor penguin",),
    "goat": ("mountain goat", "kid goat"),
    "lamb": ("yearling", "spring lamb"),
    "kitten": ("kitty cat", "tabby kitten"),
    "cow": ("heifer", "dairy cow"),
    "sheep": ("merino", "woolly sheep"),
    "chicken": ("bantam", "chick"),
    "tiger": ("tiger cub", "bengal tiger"),
    "giraffe": ("giraffe calf",),
    "zebra": ("zebra foal",),
    "dragon": ("wyvern", "dragonling"),
    "dinosaur": ("triceratops", "stegosaurus"),
    "deer": ("fawn", "roe deer"),
    "wolf": ("wolf cub", "timber wolf"),
    "panda": ("giant panda",),
    "hippo": ("hippopotamus",),
}
HERO_KINDS = tuple(PEOPLE_KINDS) + tuple(ANIMAL_KINDS)

TRAITS = {
    "little": ("diminutive", "petite", "pint-sized"),
    "kind": ("compassionate", "benevolent", "considerate"),
    "brave": ("courageous", "valiant", "intrepid"),
    "shy": ("timid", "bashful", "reserved"),
    "curious": ("inquisitive", "inquiring"),
    "clever": ("ingenious", "resourceful", "astute"),
    "funny": ("whimsical", "comical", "droll"),
    "gentle": ("tender", "mild-mannered"),
    "friendly": ("amiable", "affable", "genial"),
    "busy": ("industrious", "diligent"),
    "silly": ("mischievous", "playful"),
    "quiet": ("taciturn", "soft-spoken"),
    "happy": ("cheerful", "jovial", "sunny-natured"),
    "smart": ("perceptive", "bright"),
    "young": ("youthful", "fledgling"),
    "sweet": ("endearing", "adorable"),
    "polite": ("courteous", "well-mannered"),
    "strong": ("sturdy", "robust"),
    "helpful": ("obliging", "accommodating"),
    "naughty": ("impish", "roguish"),
}

# Grown-ups who praise or comfort at the end; the rich tier uses the formal word.
PARENTS = {
    "Mommy": ("Mother",),
    "Daddy": ("Father",),
    "Grandma": ("Grandmother",),
    "Grandpa": ("Grandfather",),
}
PARENT_PRONOUNS = {"Mommy": "she", "Daddy": "he", "Grandma": "she", "Grandpa": "he"}

# --- setting ----------------------------------------------------------------------------------

# place -> (preposition, indoor?, rich noun phrases)
PLACES = {
    "park": ("at", False, ("municipal park", "leafy park", "parkland")),
    "forest": ("in", False, ("woodland", "pine forest", "thicket")),
    "woods": ("in", False, ("woodland", "copse", "forest glade")),
    "beach": ("on", False, ("seashore", "sandy shore", "coastline")),
    "garden": ("in", False, ("flower garden", "orchard", "vegetable patch")),
    "farm": ("on", False, ("farmstead", "ranch", "homestead")),
    "river": ("by", False, ("riverbank", "stream", "brook")),
    "hill": ("on", False, ("hillside", "grassy slope", "hilltop")),
    "zoo": ("at", False, ("menagerie", "wildlife park")),
    "pond": ("by", False, ("lily pond", "millpond")),
    "lake": ("by", False, ("lakeshore", "lakeside")),
    "field": ("in", False, ("meadow", "pasture", "paddock")),
    "playground": ("at", False, ("play area", "adventure playground")),
    "yard": ("in", False, ("courtyard", "garden yard")),
    "village": ("in", False, ("hamlet", "little village")),
    "market": ("at", False, ("marketplace", "bazaar", "street market")),
    "mountain": ("on", False, ("mountainside", "summit", "craggy mountain")),
    "island": ("on", False, ("isle", "islet")),
    "jungle": ("in", False, ("rainforest", "tropical jungle")),
    "camp": ("at", False, ("campsite", "encampment")),
    "library": ("in", True, ("reading room", "public library")),
    "kitchen": ("in", True, ("farmhouse kitchen", "scullery")),
    "bedroom": ("in", True, ("bedchamber", "nursery")),
    "attic": ("in", True, ("loft", "garret")),
    "barn": ("in", True, ("hayloft", "stable")),
    "castle": ("in", True, ("fortress", "palace", "citadel")),
    "cave": ("in", True, ("cavern", "grotto")),
    "bakery": ("in", True, ("patisserie", "bakehouse")),
    "school": ("at", True, ("schoolhouse", "classroom")),
    "shop": ("in", True, ("toyshop", "general store", "boutique")),
    "tower": ("in", True, ("turret", "belfry")),
    "lighthouse": ("in", True, ("beacon tower", "old lighthouse")),
    "museum": ("in", True, ("gallery", "exhibition hall")),
    "station": ("at", False, ("railway station", "depot")),
    "harbor": ("at", False, ("quayside", "marina")),
    "circus": ("at", False, ("big top", "carnival")),
    "swamp": ("in", False, ("marsh", "bog")),
    "desert": ("in", False, ("sand dunes", "wasteland")),
    "city": ("in", False, ("metropolis", "bustling city")),
    "town": ("in", False, ("township", "market town")),
    "street": ("on", False, ("avenue", "boulevard")),
}

TIMES = ("morning", "afternoon", "evening", "day", "night")

WEATHERS = {
    "sunny": ("sunlit", "cloudless", "radiant"),
    "rainy": ("drizzly", "showery", "damp"),
    "windy": ("blustery", "gusty", "breezy"),
    "snowy": ("wintry", "frosty", "snowbound"),
    "cloudy": ("overcast", "gloomy", "murky"),
    "foggy": ("misty", "hazy"),
    "warm": ("balmy", "sultry", "mild"),
    "cold": ("chilly", "frigid", "bitter"),
    "hot": ("sweltering", "scorching", "sultry"),
    "bright": ("brilliant", "dazzling", "luminous"),
    "stormy": ("tempestuous", "thundery", "squally"),
}

# A short extra "scene" sentence per weather (the optional scene beat). These phrases, like the
# spots below, use the template syntax of ``_storyworld_templates.py``: <simple|rich|rich>.
SCENES = {
    "sunny": ("the sun was shining and the birds were <singing|chirping|warbling>",
              "the sky was <blue and bright|a dazzling azure|clear and luminous>"),
    "rainy": ("little drops of rain were <falling|pattering down|pattering on the leaves>",
              "there were <puddles|glistening puddles|muddy pools> everywhere"),
    "windy": ("the wind was <blowing the leaves around|whirling the leaves about|tossing the branches>",
              "the trees were <moving in the wind|swaying in the breeze|bending in the gale>"),
    "snowy": ("white snow was <falling from the sky|drifting down|swirling through the air>",
              "everything was <white with snow|blanketed in snow|covered in a layer of frost>"),
    "cloudy": ("big gray clouds were <in the sky|gathering overhead|drifting across the heavens>",
               "the sky was <gray and low|heavy and leaden|dull and sombre>"),
    "foggy": ("it was <hard to see very far|impossible to see far ahead|difficult to see anything>",
              "the fog was <thick and white|dense and milky|thick as porridge>"),
    "warm": ("the air was <warm and soft|balmy and fragrant|mild and pleasant>",
             "it <felt like summer|felt positively summery|resembled a summer afternoon>"),
    "cold": ("the air was <very cold|bitterly cold|freezing>",
             "the ground was <hard and cold|frozen solid|stiff with frost>"),
    "hot": ("the sun was <very hot|blazing|scorching>", "everyone was looking for <shade|a shady spot|somewhere cool>"),
    "bright": ("everything was <bright and clear|sparkling|gleaming>", "the light was <bright|dazzling|brilliant>"),
    "stormy": ("the wind was <howling|roaring|shrieking>", "there was <thunder|rumbling thunder|a crash of thunder> far away"),
}

# --- objects ----------------------------------------------------------------------------------

# object -> (category, rich nouns); categories decide which goals make sense.
OBJECTS = {
    "ball": ("toy", ("football", "rubber ball", "beach ball")),
    "kite": ("toy", ("paper kite", "box kite")),
    "doll": ("toy", ("rag doll", "porcelain doll", "puppet")),
    "boat": ("toy", ("sailboat", "dinghy", "toy yacht")),
    "car": ("toy", ("race car", "toy automobile")),
    "train": ("toy", ("locomotive", "toy train")),
    "truck": ("toy", ("lorry", "dump truck")),
    "robot": ("toy", ("automaton", "clockwork robot")),
    "drum": ("toy", ("tambourine", "snare drum")),
    "puzzle": ("toy", ("jigsaw", "jigsaw puzzle")),
    "balloon": ("toy", ("party balloon", "hot air balloon")),
    "bike": ("toy", ("bicycle", "tricycle")),
    "wagon": ("toy", ("cart", "wheelbarrow")),
    "sled": ("toy", ("toboggan", "sleigh")),
    "whistle": ("toy", ("tin whistle", "penny whistle")),
    "marble": ("toy", ("glass marble", "alley marble")),
    "rocket": ("toy", ("toy rocket", "spaceship")),
    "plane": ("toy", ("glider", "biplane")),
    "bus": ("toy", ("toy bus", "double-decker")),
    "piano": ("toy", ("toy piano", "keyboard")),
    "guitar": ("toy", ("ukulele", "banjo")),
    "flute": ("toy", ("recorder", "piccolo")),
    "horn": ("toy", ("bugle", "cornet", "trumpet")),
    "wand": ("toy", ("magic wand", "sceptre")),
    "crown": ("toy", ("tiara", "diadem")),
    "scooter": ("toy", ("kick scooter", "roller skate")),
    "hat": ("clothes", ("bonnet", "beret", "cap")),
    "scarf": ("clothes", ("muffler", "shawl")),
    "sock": ("clothes", ("stocking",)),
    "mitten": ("clothes", ("glove", "woolly mitten")),
    "coat": ("clothes", ("overcoat", "raincoat", "jacket")),
    "boot": ("clothes", ("wellington", "galosh")),
    "shoe": ("clothes", ("sandal", "slipper", "sneaker")),
    "dress": ("clothes", ("gown", "frock", "pinafore")),
    "shirt": ("clothes", ("blouse", "tunic")),
    "sweater": ("clothes", ("jumper", "cardigan", "pullover")),
    "belt": ("clothes", ("sash", "waistband")),
    "cake": ("food", ("sponge cake", "layer cake")),
    "apple": ("food", ("russet", "crab apple")),
    "pie": ("food", ("tart", "pastry")),
    "sandwich": ("food", ("baguette", "bread roll")),
    "banana": ("food", ("plantain",)),
    "carrot": ("food", ("parsnip",)),
    "cupcake": ("food", ("muffin", "fairy cake")),
    "egg": ("food", ("hen egg", "speckled egg")),
    "pancake": ("food", ("crepe", "flapjack")),
    "cherry": ("food", ("morello", "black cherry")),
    "pear": ("food", ("conference pear", "william pear")),
    "lemon": ("food", ("citron", "lime")),
    "pizza": ("food", ("flatbread", "calzone")),
    "candy": ("food", ("bonbon", "toffee", "lollipop")),
    "peach": ("food", ("nectarine", "apricot")),
    "strawberry": ("food", ("wild strawberry", "raspberry")),
    "book": ("thing", ("volume", "storybook", "diary")),
    "box": ("thing", ("crate", "chest", "casket")),
    "basket": ("thing", ("hamper", "wicker basket")),
    "bucket": ("thing", ("pail", "tin bucket")),
    "shell": ("thing", ("seashell", "conch")),
    "stone": ("thing", ("pebble", "gemstone")),
    "flower": ("thing", ("blossom", "tulip", "daffodil")),
    "key": ("thing", ("latchkey", "skeleton key")),
    "bag": ("thing", ("satchel", "knapsack", "rucksack")),
    "blanket": ("thing", ("quilt", "eiderdown")),
    "lamp": ("thing", ("lantern", "oil lamp")),
    "cup": ("thing", ("mug", "goblet", "teacup")),
    "bell": ("thing", ("chime", "handbell")),
    "crayon": ("thing", ("pastel", "charcoal stick")),
    "picture": ("thing", ("painting", "drawing", "sketch")),
    "card": ("thing", ("postcard", "greeting card")),
    "letter": ("thing", ("note", "envelope")),
    "map": ("thing", ("chart", "treasure map")),
    "rope": ("thing", ("cord", "twine")),
    "umbrella": ("thing", ("parasol",)),
    "feather": ("thing", ("quill", "plume")),
    "ring": ("thing", ("bracelet", "brooch")),
    "necklace": ("thing", ("pendant", "locket")),
    "clock": ("thing", ("pocket watch", "alarm clock")),
    "shovel": ("thing", ("spade", "trowel")),
    "bowl": ("thing", ("dish", "basin")),
    "pillow": ("thing", ("cushion", "bolster")),
    "star": ("thing", ("paper star", "star ornament")),
    "hammer": ("thing", ("mallet", "gavel")),
    "spoon": ("thing", ("ladle", "teaspoon")),
    "plate": ("thing", ("platter", "saucer")),
    "pencil": ("thing", ("fountain pen", "pen")),
    "jar": ("thing", ("jam jar", "vase")),
    "bottle": ("thing", ("flask", "canteen")),
    "candle": ("thing", ("taper", "candlestick")),
    "mirror": ("thing", ("looking glass", "hand mirror")),
    "teapot": ("thing", ("kettle", "samovar")),
    "button": ("thing", ("toggle", "cufflink")),
    "coin": ("thing", ("doubloon", "sovereign")),
    "nest": ("thing", ("eyrie", "bird nest")),
    "bone": ("thing", ("marrowbone", "chew bone")),
}
IRREGULAR_PLURALS = {"scarf": "scarves"}

# Goals and the object categories they fit, plus single objects that fit a goal outside their
# category ("make" a cake, "fix" a clock).
GOALS = {
    "find": ("toy", "clothes", "food", "thing"),
    "fix": ("toy",),
    "reach": ("toy", "clothes", "thing"),
    "make": (),
    "give": ("toy", "clothes", "food", "thing"),
    "share": ("toy", "food"),
    "carry": ("toy", "food", "thing"),
}
GOAL_EXTRAS = {
    "make": ("cake", "pie", "sandwich", "cupcake", "kite", "boat", "hat", "card", "picture", "star",
             "puzzle", "drum", "necklace", "basket", "pancake", "pizza", "crown", "wand"),
    "fix": ("box", "basket", "bucket", "lamp", "cup", "bell", "clock", "umbrella", "bowl", "necklace",
            "ring", "star", "shovel", "crayon", "plate", "jar", "mirror", "teapot", "pencil"),
}

COLOURS = {
    "red": ("crimson", "scarlet", "ruby"),
    "blue": ("azure", "cobalt", "sapphire"),
    "green": ("emerald", "jade", "olive"),
    "yellow": ("golden", "amber", "lemon"),
    "orange": ("tangerine", "apricot", "copper"),
    "purple": ("violet", "lavender", "plum"),
    "pink": ("rosy", "coral", "salmon"),
    "brown": ("chestnut", "tawny", "russet"),
    "black": ("ebony", "inky", "coal-black"),
    "white": ("ivory", "pearly", "snow-white"),
    "gray": ("silvery", "ashen", "slate"),
    "shiny": ("gleaming", "glittering", "lustrous"),
    "striped": ("pinstriped", "banded"),
    "spotted": ("speckled", "dappled", "polka-dot"),
}
SIZES = {
    "big": ("enormous", "gigantic", "hefty"),
    "little": ("miniature", "petite", "minuscule"),
    "huge": ("colossal", "immense", "mammoth"),
    "tiny": ("teeny", "minute", "diminutive"),
    "old": ("ancient", "battered", "antique"),
    "new": ("brand-new", "pristine", "gleaming"),
    "soft": ("velvety", "downy", "plush"),
    "round": ("spherical", "circular"),
}
NUMBERS = {2: "two", 3: "three", 4: "four", 5: "five"}

# Where a lost thing turns up (goal "find"), or where a stuck thing sits (goal "reach"), by
# indoor/outdoor place.
SPOTS = {
    False: ("under a <bush|shrub|prickly bush>", "behind a <big rock|boulder|mossy boulder>",
            "next to a <tree|gnarled tree|towering oak>", "in the <tall grass|long grass|overgrown weeds>",
            "by the <fence|picket fence|wooden fence>", "under a <bench|park bench|weathered bench>",
            "inside a <hollow log|rotten log|fallen trunk>", "near a <puddle|muddy puddle|murky puddle>"),
    True: ("under the <bed|mattress|bedstead>", "behind the <door|cupboard door|wardrobe door>",
           "inside a <box|cardboard box|wooden crate>", "under the <table|kitchen table|dining table>",
           "on a <chair|rocking chair|wooden stool>", "under a <pillow|cushion|velvet cushion>",
           "behind the <couch|sofa|settee>", "in the <closet|wardrobe|cupboard>"),
}
HIGH_SPOTS = {
    False: ("up in a <tall tree|towering oak|lofty sycamore>", "on top of the <fence|garden wall|tall hedge>",
            "on the <roof of the shed|slanted roof|chimney pot>", "on a <high rock|craggy ledge|rocky outcrop>"),
    True: ("on a <high shelf|lofty shelf|towering bookcase>", "on top of the <cupboard|wardrobe|dresser>",
           "at the <top of the stairs|summit of the staircase|landing upstairs>", "up on the <window|windowsill|window ledge>"),
}

# --- story arc --------------------------------------------------------------------------------

# obstacle -> where it can happen: "out" (outdoor places), "in" (indoor places) or "any"
OBSTACLES = {
    "rain": "out", "wind": "out", "dark": "any", "tired": "any", "dog": "any", "mud": "out",
    "lost": "out", "river": "out", "snow": "out", "fall": "any", "hungry": "any", "cold": "out",
    "bee": "out", "goat": "out", "noise": "any", "door": "in",
}

FEELINGS_START = {
    "happy": ("joyful", "elated", "contented"),
    "excited": ("thrilled", "exhilarated", "eager"),
    "curious": ("inquisitive", "intrigued"),
    "bored": ("listless", "restless", "weary of everything"),
    "sleepy": ("drowsy", "groggy", "languid"),
    "worried": ("anxious", "uneasy", "apprehensive"),
    "shy": ("timid", "bashful", "self-conscious"),
    "calm": ("serene", "tranquil", "peaceful"),
    "lonely": ("forlorn", "solitary", "isolated"),
    "silly": ("giddy", "playful", "frivolous"),
    "hungry": ("famished", "ravenous", "peckish"),
    "grumpy": ("irritable", "cantankerous", "sulky"),
    "nervous": ("jittery", "fidgety", "on edge"),
    "sad": ("downhearted", "despondent", "gloomy"),
    "cross": ("vexed", "irate", "peeved"),
}
FEELINGS_END = {
    "happy": {
        "happy": ("joyful", "elated", "overjoyed"),
        "glad": ("delighted", "gratified", "pleased"),
        "excited": ("thrilled", "jubilant", "ecstatic"),
        "thankful": ("grateful", "appreciative"),
        "cheerful": ("buoyant", "upbeat", "jaunty"),
        "pleased": ("gratified", "satisfied", "contented"),
    },
    "sad": {
        "sad": ("melancholy", "sorrowful", "dejected"),
        "upset": ("distraught", "dismayed", "crestfallen"),
        "sorry": ("remorseful", "regretful", "apologetic"),
        "lonely": ("forlorn", "desolate"),
        "tired": ("weary", "exhausted", "drained"),
        "cross": ("indignant", "irate", "vexed"),
        "worried": ("anxious", "troubled", "uneasy"),
    },
}

# lesson -> (the outcome it fits, needs a friend?)
LESSONS = {
    "never_give_up": ("happy", False),
    "friends_help": ("happy", True),
    "be_brave": ("happy", False),
    "good_things_take_time": ("happy", False),
    "sharing_is_good": ("happy", False),
    "be_careful": ("sad", False),
    "ask_for_help": ("sad", False),
    "sad_is_okay": ("sad", False),
    "new_day": ("sad", False),
}

# --- the rich lexicon ---------------------------------------------------------------------------

# Template words the rich tier swaps for a rarer synonym every time they occur. Only words used
# in one sense throughout the templates are listed (for example "wanted" is always "wanted to").
LEXICON = {
    "very": ("exceedingly", "remarkably", "tremendously", "awfully"),
    "really": ("truly", "genuinely", "positively"),
    "big": ("enormous", "gigantic", "massive"),
    "happy": ("joyful", "cheerful", "elated"),
    "sad": ("sorrowful", "glum", "downcast"),
    "said": ("remarked", "declared", "announced", "murmured"),
    "asked": ("inquired", "queried", "wondered"),
    "shouted": ("bellowed", "hollered", "exclaimed"),
    "cried": ("wailed", "sobbed", "exclaimed"),
    "went": ("ventured", "wandered", "journeyed", "headed"),
    "walked": ("strolled", "ambled", "trudged", "sauntered"),
    "ran": ("dashed", "sprinted", "scurried", "raced"),
    "jumped": ("leapt", "bounded", "sprang", "vaulted"),
    "found": ("discovered", "located", "spotted", "uncovered"),
    "wanted": ("longed", "yearned", "wished", "hoped"),
    "tried": ("attempted", "endeavoured", "struggled"),
    "started": ("commenced", "began"),
    "quickly": ("swiftly", "hastily", "briskly", "promptly"),
    "slowly": ("gradually", "unhurriedly", "sluggishly"),
    "carefully": ("cautiously", "meticulously", "gingerly"),
    "gently": ("tenderly", "delicately", "softly"),
    "softly": ("faintly", "hushedly", "quietly"),
    "suddenly": ("abruptly", "unexpectedly", "all of a sudden"),
    "soon": ("shortly", "before long", "presently"),
    "finally": ("eventually", "ultimately", "at long last"),
    "everywhere": ("far and wide", "all over the place", "in every corner"),
    "loudly": ("noisily", "thunderously", "deafeningly"),
    "strong": ("powerful", "mighty", "fierce"),
    "hard": ("strenuously", "diligently", "tirelessly"),
    "great": ("splendid", "magnificent", "marvellous"),
    "nice": ("pleasant", "agreeable", "delightful"),
    "best": ("finest", "most splendid", "greatest"),
    "lovely": ("exquisite", "charming", "enchanting"),
    "beautiful": ("gorgeous", "stunning", "breathtaking"),
    "smiled": ("beamed", "grinned"),
    "laughed": ("chuckled", "giggled", "chortled"),
    "hug": ("embrace", "cuddle", "squeeze"),
    "help": ("assist",),
    "helped": ("assisted", "aided", "supported"),
    "fix": ("repair", "mend", "restore"),
    "fixed": ("repaired", "mended", "restored"),
    "broken": ("damaged", "shattered", "cracked"),
    "gone": ("nowhere to be seen", "no longer there"),
    "stuck": ("wedged", "trapped", "lodged"),
    "heavy": ("weighty", "cumbersome", "hefty"),
    "scared": ("frightened", "terrified", "petrified"),
    "tired": ("weary", "exhausted", "fatigued"),
    "wet": ("soaked", "drenched", "sodden"),
    "dark": ("gloomy", "shadowy", "murky"),
    "cold": ("chilly", "icy", "frigid"),
    "path": ("trail", "lane", "track"),
    "friend": ("companion", "pal", "comrade"),
    "friends": ("companions", "pals", "comrades"),
    "dog": ("hound", "mutt", "terrier"),
    "tree": ("oak", "elm", "willow", "birch"),
    "rock": ("stone", "pebble"),
    "hole": ("burrow", "hollow", "pit"),
    "noise": ("racket", "clatter", "commotion"),
    "wind": ("gale", "gust", "breeze"),
    "rain": ("downpour", "drizzle", "shower"),
    "gift": ("present", "keepsake", "offering"),
    "together": ("side by side", "as a team", "in unison"),
    "again": ("once more", "anew"),
    "thought": ("pondered", "reflected", "mused"),
    "decided": ("resolved", "chose"),
    "learned": ("realised", "discovered", "understood"),
    "knew": ("understood", "realised", "sensed"),
    "careful": ("cautious", "prudent", "watchful"),
    "brave": ("courageous", "valiant", "fearless"),
    "sorry": ("regretful", "apologetic"),
}
