"""Sentence templates for the storyworld generator, one table entry per story beat.

Each beat of a plan (see ``storyworld.py``) becomes exactly one sentence, drawn from the templates
under its key. A key is the beat name, refined by the plan where the wording depends on it:
``problem:find``, ``outcome:fix:sad``, ``obstacle:rain``, ``resolve:rain:happy``...

Template syntax (both tiers come from the same template):

- ``{slot}``: a story value (``{Hero}``, ``{his}``, ``{obj}``, ``{the_place}``...). A template whose
  slots are empty for a story (no friend, no grown-up) is never chosen for that story.
- ``(a|b|c)``: variants. The template stands for one template per variant (``(a|)``: optional
  words), so both tiers pick the same variant.
- ``<simple|rich|rich>``: the simple tier prints the first option, the rich tier one of the others.
- ``[rich|rich]``: printed only in the rich tier (one option, picked at random): longer sentences.
- plain words: printed as written in the simple tier; the rich tier swaps the words listed in
  ``LEXICON`` (``_storyworld_words.py``) for a rarer synonym.

Sentences start with a capital after rendering, so ``{he}`` may open a template. Templates never
contain an apostrophe, never write "an" before a slot or a swappable word (the generator turns
"a" into "an" where needed), and the sentences that merged beats extend (``intro_setting``,
``setting``, ``outcome:*``) contain no quotes.
"""

T = dict[str, tuple[str, ...]]

OPENING: T = {
    "intro": (
        "Once upon a time[, in a land far away|, not so long ago|, in a faraway kingdom], there (was|lived) a {trait} {kind} (named|called) {Hero}[ who adored adventures| with a heart full of wonder| whom everybody admired].",
        "There once was a {trait} {kind} (called|named) {Hero}[ who lived at the edge of a sleepy town| who was always full of questions].",
        "{Hero} was a {trait} {kind}[ with a mischievous twinkle in {his} eye| who never sat still for long| with an extraordinary imagination].",
        "Once there was a {trait} {kind}, and {his} name was {Hero}.",
        "Long ago, there lived a {trait} {kind} named {Hero}[, in a cottage beside a winding lane| with {his} devoted family].",
        "This is a story about a {trait} {kind} (named|called) {Hero}[ and a rather unusual adventure| and one memorable afternoon].",
        "In a (little|small|big|blue|yellow|white) house near {the_place}, there lived a {trait} {kind} called {Hero}.",
        "{Hero} the {animal} was (very|so|always) {trait}[, as everybody in the neighbourhood knew| and rather proud of it].",
        "Everyone <knew|was acquainted with|recognised> {Hero}, the {trait} {kind}[ who lived at the end of the lane| with the loudest laugh in town].",
        "Once upon a time, a {trait} {kind} named {Hero} lived with {his} family[ in a crooked old house| beneath a towering chestnut tree].",
        "There was once a {trait} {kind} named {Hero} who liked to (play|sing|run|jump|dance|draw|read) all day long.",
        "Not far from {the_place}, there lived a {trait} {kind} named {Hero}.",
        "{Hero} was a {trait} {kind} who (loved|liked) (games|stories|songs|the sun|the rain|picnics) more than anything.",
    ),
    "setting": (
        "One {weather} {time}, {he} went to {the_place}[ to see what adventures awaited| with a spring in {his} step].",
        "One {weather} {time}, {Hero} (walked|ran|went) to {the_place}[, humming a cheerful melody| without a care in the world].",
        "It was a {weather} {time}, and {Hero} was {at_place}[ once again| as usual].",
        "On a {weather} {time}, {he} (ran|went|walked) to {the_place} to play.",
        "That {time} was {weather}, so {he} went to play {at_place}.",
        "{Hero} spent the {weather} {time} {at_place}[, exploring every nook and cranny| gazing at everything around {him}].",
        "The {time} was {weather} when {Hero} got to {the_place}.",
        "{Hero} (loved|liked) to play {at_place}, so one {weather} {time} {he} went there[ as fast as {his} legs could carry {him}| once more].",
        "One {weather} {time}, {Hero} and {his} (family|brother|sister|cousin) went to {the_place}.",
        "One {weather} {time}, {Parent} took {Hero} to {the_place}.",
        "It was a {weather} {time}, and {Hero} (wanted|was going) to go to {the_place}.",
        "On that {weather} {time}, {he} went out to {the_place}[, eager to explore| full of anticipation].",
        "(After breakfast|After lunch|After school|After a nap), on a {weather} {time}, {Hero} went to {the_place}.",
    ),
    "intro_setting": (
        "One {weather} {time}, a {trait} {kind} (named|called) {Hero} (went|walked|ran) to {the_place}.",
        "Once upon a time, on a {weather} {time}, a {trait} {kind} called {Hero} was (playing|singing|walking) {at_place}.",
        "On a {weather} {time}, {Hero} the {trait} {animal} went for a (walk|run) to {the_place}.",
        "There once was a {trait} {kind} named {Hero}, and one {weather} {time} {he} went to {the_place}.",
        "It was a {weather} {time}, and a {trait} {kind} named {Hero} was {at_place}.",
        "One {weather} {time}, {Hero}, a {trait} {kind}, went to play {at_place}[ with great enthusiasm| after an early breakfast].",
        "(Early|Late) on a {weather} {time}, a {trait} {kind} called {Hero} ran all the way to {the_place}.",
    ),
    "feeling_start": (
        "{Hero} felt {feeling_start}[, though {he} could not quite say why| as {he} gazed around].",
        "{he} was feeling (very|so|really|a little) {feeling_start} that {time}.",
        "That {time}, {Hero} felt (a little|very|so) {feeling_start}.",
        "{he} felt so {feeling_start}[ that {he} could hardly keep still| that {he} hummed to {himself}].",
        "All {time} long, {he} (felt|had felt) {feeling_start}.",
        "Deep inside, {Hero} felt {feeling_start}.",
        "{Hero} was {feeling_start}, and {he} did not know why.",
        "{he} felt {feeling_start} from the top of {his} head to the tips of {his} toes.",
        "That {time}, {Hero} was (very|so|a little) {feeling_start}.",
        "(Today|This {time}), {Hero} was in a {feeling_start} mood.",
    ),
    "scene": (
        "{scene}.",
        "(Outside|All around|Up above|Out there), {scene}.",
        "{Hero} could see that {scene}.",
        "{Hero} <looked up|glanced upwards|peered skywards>, and {scene}.",
    ),
}

# Tails that merge a feeling into the sentence before (no quotes in the sentences they extend).
TAILS: T = {
    "start_tail": (
        ", feeling (very|so|a little) {feeling_start}.",
        ", and {he} felt (very|so|a little) {feeling_start}.",
        ", and {he} was (very|so) {feeling_start}.",
    ),
    "end_tail": (
        ", and {he} felt (very|so) {feeling_end}.",
        ", and in the end {Hero} was (very|so) {feeling_end}.",
        ", which made {him} feel {feeling_end}.",
        ", and {Hero} felt {feeling_end}.",
    ),
}

PROBLEM: T = {
    "problem:find": (
        "But {he} could not find {his} {obj_np}[ anywhere| no matter how hard {he} tried].",
        "(Then|Soon|But then) {he} saw that {his} {obj_np} {obj_was} gone.",
        "{Hero} had lost {his} {obj_np}[ somewhere along the way| earlier that week].",
        "{he} <looked|searched|hunted> for {his} {obj_np}, but {it_subj} {obj_was} not there.",
        "Oh no, {his} {obj_np} {obj_was} missing!",
        "{Hero} had {a_obj}, but one day {he} lost {it}.",
        "{Hero} loved {his} {obj_np}, but now {it_subj} {obj_was} nowhere to be found.",
        "When {he} got there, {his} {obj_np} {obj_was} (lost|gone|missing).",
    ),
    "problem:fix": (
        "{his} {obj_np} {obj_was} broken[, and nobody knew how it had happened| beyond recognition].",
        "{Hero} dropped {his} {obj_np}, and {it_subj} broke.",
        "When {he} picked up {his} {obj_np}, {he} saw that {it_subj} {obj_was} broken.",
        "Oh no, {his} {obj_np} fell and broke!",
        "{Hero} had {a_obj}, but {it_subj} {obj_was} broken.",
        "{his} {obj_np} broke into (two|many|lots of) pieces.",
        "(A dog|A cat|The wind|Someone) knocked over {his} {obj_np}, and {it_subj} broke.",
    ),
    "problem:reach": (
        "{his} {obj_np} {obj_was} stuck {spot}.",
        "{Hero} saw {his} {obj_np} {spot}[, far beyond {his} reach| dangling precariously].",
        "Somehow, {his} {obj_np} had ended up {spot}.",
        "{his} {obj_np} {obj_was} {spot}, and {he} was too (small|little|short) to reach {it}.",
        "{Hero} threw {his} {obj_np} up in the air, and {it_subj} landed {spot}.",
    ),
    "problem:make": (
        "{Hero} wanted to make {a_obj}[ more than anything in the world| for a special occasion].",
        "{he} had an idea: {he} would make {a_obj}.",
        "{Hero} decided to make {a_obj} all by {himself}.",
        "{he} got everything ready to make {a_obj}.",
        "That {time}, {Hero} wanted to make {a_obj} for {his} (family|teacher|brother|sister).",
        "That {time}, {Hero} wanted to make {a_obj} for {Parent}.",
    ),
    "problem:give": (
        "{Hero} had {a_obj} for {recipient}[, wrapped in tissue paper| chosen with great care].",
        "{Hero} chose {his} {obj_np} as a (gift|present|surprise) for {recipient}.",
        "{recipient} had a birthday, and {Hero} had {a_obj} as a (gift|present).",
        "{he} had {a_obj}, and {it_subj} {obj_was} for {recipient}.",
        "{Hero} made a plan to surprise {recipient} with {a_obj}.",
    ),
    "problem:share": (
        "{Hero} had {a_obj}, and {Friend} had (none|nothing).",
        "{Friend} saw the {obj} and wished {fhe} had one too.",
        "{Hero} had {a_obj}, but {Friend} did not have any.",
        "{Friend} looked (sad|hungry|lonely), because {fhe} had no {obj}.",
    ),
    "problem:carry": (
        "{Hero} had to carry {his} {obj_np} all the way home.",
        "{Hero} had {a_obj}, and {he} had to take {it} home.",
        "{he} had to bring {his} {obj_np} home before (dinner|lunch|supper|bedtime).",
        "{Hero} picked up {his} {obj_np} to take {it} home[, cradling {it} like a treasure| with tremendous care].",
    ),
}

WANT: T = {
    "want:find": (
        "{he} wanted to find {it}[ before anybody noticed| as soon as possible].",
        "{Hero} wanted to find {it} more than anything.",
        "{he} (had|needed) to find {it}!",
        "{he} really wanted to find {his} {obj}.",
    ),
    "want:fix": (
        "{he} wanted to fix {it}[ before bedtime| without anyone knowing].",
        "{Hero} wanted to make {it} (good|new|right) again.",
        "{he} hoped {he} could fix {it}.",
    ),
    "want:reach": (
        "{Hero} wanted to get {his} {obj} down.",
        "{Hero} really wanted to reach {it}.",
        "{he} had to get {his} {obj} back[ before the wind carried {it} off| somehow].",
    ),
    "want:make": (
        "{he} hoped {it_subj} would be the best {obj} ever.",
        "{Hero} wanted to make the {obj} without any help.",
        "{Hero} hoped {his} family would love {it}.",
    ),
    "want:give": (
        "{he} wanted to give {it} to {recipient}[ before the party started| that very evening].",
        "{Hero} hoped that {recipient} would like {it}.",
        "{he} hoped {recipient} would be (happy|glad|surprised).",
    ),
    "want:share": (
        "{Hero} thought about sharing {his} {obj}.",
        "{he} did not know what to do.",
        "{Hero} looked at {his} {obj} for a (long|little) while.",
    ),
    "want:carry": (
        "{he} wanted to get {it} home safe and sound.",
        "{Hero} wanted to take {it} home[ without a single scratch| in one piece].",
        "{Hero} had to be (very|really|so) careful with the {obj}.",
    ),
}

SAY_GOAL: T = {
    "say_goal:find": (
        "\"Where {obj_is} my {obj}?\" (asked|cried) {Hero}[ anxiously| in a trembling voice].",
        "\"I have to find my {obj},\" said {Hero}.",
        "{Hero} said, \"I will look for my {obj} everywhere.\"",
        "\"Has anyone seen my {obj}?\" {he} asked.",
        "\"My {obj} {obj_was} right here,\" said {Hero}.",
    ),
    "say_goal:fix": (
        "\"I can fix {it},\" said {Hero}[ with determination| confidently].",
        "\"Oh no, my {obj}!\" cried {Hero}.",
        "\"Can I fix {it}?\" {he} asked.",
        "{Hero} said, \"I will make {it} good again.\"",
    ),
    "say_goal:reach": (
        "\"How can I get {it} down?\" asked {Hero}.",
        "\"I need to reach my {obj},\" said {Hero}[, frowning| with a sigh].",
        "{Hero} said, \"I will get {it} back!\"",
    ),
    "say_goal:make": (
        "\"I will make the best {obj} ever,\" said {Hero}.",
        "\"Today I will make {a_obj}!\" said {Hero}[ with a grin| excitedly].",
        "{Hero} said, \"This will be so much fun!\"",
    ),
    "say_goal:give": (
        "\"{recipient} will love this,\" said {Hero}.",
        "\"I hope {recipient} likes {it},\" said {Hero}[ to {himself}| hopefully].",
        "{Hero} said, \"This is for {recipient}.\"",
    ),
    "say_goal:share": (
        "\"Can I have some too?\" asked {Friend}.",
        "\"That {obj} looks (so good|so nice|great),\" said {Friend}.",
        "{Friend} asked, \"Will you share with me?\"",
    ),
    "say_goal:carry": (
        "\"I will take {it} home,\" said {Hero}.",
        "\"I must be careful,\" said {Hero}[ under {his} breath| to {himself}].",
        "{Hero} said, \"I can do it!\"",
    ),
}

FRIEND: T = {
    "friend_arrive": (
        "Then {friend_np} came by[, whistling a merry tune| on {fhis} way home].",
        "Just then, {friend_np} came (to play|to say hello|along).",
        "Soon, {friend_np} walked up to {him}.",
        "{friend_np} saw {him} and came over[ to see what was happening| at once].",
        "{Hero} was not alone, because {friend_np} was there too.",
        "Along came {friend_np}.",
        "{friend_np} ran over to see what was going on.",
        "{Hero} went with {friend_np}[, who never missed an adventure| as always].",
    ),
    "friend_offer": (
        "\"I can help you,\" said {Friend}[ kindly| warmly].",
        "\"Do not worry, I will help,\" said {Friend}.",
        "\"Let me help you,\" said {Friend}[ with a reassuring smile| gently].",
        "{Friend} said, \"We can do it together!\"",
        "\"What is wrong?\" asked {Friend}.",
        "\"Can I help?\" asked {Friend} with a smile.",
        "\"Two heads are better than one,\" said {Friend}.",
    ),
}

OBSTACLE: T = {
    "obstacle:rain": (
        "But then, dark clouds came (over|to) {the_place}, and it started to <rain|pour|drizzle>.",
        "Suddenly, big drops of rain started to fall on {Hero}(| and {his} {obj}).",
        "Soon the rain came down, and (everything|{Hero}|the {obj}) got wet.",
    ),
    "obstacle:wind": (
        "Suddenly, a strong wind started to blow[ through the trees| from the north].",
        "Then the wind got so strong that {Hero} could not (stand still|walk|see).",
        "A big wind came and pushed {Hero} (back|over|this way and that).",
    ),
    "obstacle:dark": (
        "Soon it started to get dark {at_place}[ and the shadows grew long| far too quickly].",
        "The sun <went down|set|sank below the hills>, and {the_place} got very dark.",
        "Then the lights <went out|flickered out|failed>, and {Hero} could not see (a thing|the {obj}|anything).",
    ),
    "obstacle:tired": (
        "After a while, {Hero} got (very|so|really) tired.",
        "{Hero} was so tired that {he} wanted to (sit down|lie down|go home)[ and never get up| on the spot].",
        "Soon {Hero} could only walk (slowly|very slowly|a little way at a time).",
    ),
    "obstacle:dog": (
        "Then a big (brown|black|white|spotted) dog ran up to {Hero} and barked loudly.",
        "Suddenly, a big dog came (over|along|by) and would not go away.",
        "A (big|huge|noisy) dog stood in the way and barked at {Hero}[ ferociously| without stopping].",
    ),
    "obstacle:mud": (
        "The path to {the_place} was full of deep mud.",
        "Soon {Hero} was stuck in the mud[, squelching with every step| up to the ankles].",
        "There was mud (everywhere|all over the path), and it was <hard|difficult|arduous> to walk.",
    ),
    "obstacle:lost": (
        "But {Hero} took the wrong path and got <lost|disoriented|hopelessly lost>.",
        "Soon {Hero} did not know the way[ anymore| back].",
        "{Hero} walked and walked, and then {he} was <lost|utterly lost|bewildered>.",
    ),
    "obstacle:river": (
        "(A wide|A deep|A fast) river was in the way.",
        "Then {Hero} came to a river with no bridge.",
        "The path ended at a deep river[ that rushed and gurgled| full of slippery stones].",
    ),
    "obstacle:snow": (
        "Then it started to snow, and the snow got deeper and deeper.",
        "Suddenly, cold snow started to fall on {the_place}[ in thick flakes| all around {him}].",
        "Soon there was snow (everywhere|on the path|on the {obj}).",
    ),
    "obstacle:fall": (
        "Then {Hero} tripped (over a rock|on the path|over a stick) and fell down.",
        "{Hero} slipped and hurt {his} (knee|arm|nose)[ on the hard ground| rather badly].",
        "Oh no, {Hero} fell down with a bump!",
    ),
    "obstacle:hungry": (
        "{Hero} was so hungry that {his} tummy started to rumble.",
        "Soon {Hero} was very hungry[ and could think of nothing but lunch| indeed].",
        "{Hero} had not eaten (all {time}|since breakfast|for a long time), and {he} felt hungry.",
    ),
    "obstacle:cold": (
        "The air {at_place} got colder and colder.",
        "Soon {Hero} was very cold[ and started to shiver| from {his} nose to {his} toes].",
        "A cold wind made {Hero} shake.",
    ),
    "obstacle:bee": (
        "A buzzing bee flew around and around {Hero}.",
        "Suddenly, a big bee came buzzing by[ with an angry hum| alarmingly close].",
        "A bee landed on {his} (arm|nose|hand).",
    ),
    "obstacle:goat": (
        "A grumpy goat stood in the middle of the path.",
        "Suddenly, a big goat would not let {Hero} pass[ and lowered its horns| stubbornly].",
        "A (big|grumpy|old) goat was in the way, and it did not want to move.",
    ),
    "obstacle:noise": (
        "Suddenly, there was a loud noise, and {Hero} jumped.",
        "Then there was a strange noise {at_place}[ coming from the shadows| somewhere nearby].",
        "A loud (bang|crash|boom) made {Hero} stop.",
    ),
    "obstacle:door": (
        "But the door of {the_place} was locked.",
        "{Hero} came to a big door, and it would not open[ no matter how hard {he} pushed| an inch].",
        "The door was shut tight, and nobody was there.",
    ),
}

SAY_OBSTACLE: T = {
    "say_obstacle": (
        "\"Oh no!\" (cried|said|shouted) {Hero}[ in dismay| in despair].",
        "\"What should we do now?\" asked {Hero}.",
        "\"I am scared,\" said {Hero}[ quietly| with a shiver].",
        "\"We cannot give up now,\" said {Hero}.",
        "\"What do I do now?\" asked {Hero}.",
        "{Hero} said, \"This is not good.\"",
        "\"(Oh dear|Oh my|Oh no), what now?\" said {Hero}.",
    ),
}

RESOLVE: T = {
    "resolve:rain:happy": ("{Team} waited under a (tree|roof|big leaf) until the rain stopped.", "{Team} found a dry place and waited, and soon the sun came out."),
    "resolve:rain:sad": ("The rain did not stop, and {team} got (very|so) wet.", "The rain came down harder and harder on {the_place}."),
    "resolve:wind:happy": ("{Team} hung on tight until the wind was gone.", "Soon the wind went away[ as quickly as it had come| with a final sigh]."),
    "resolve:wind:sad": ("The wind was too strong for {Team}.", "The wind pushed and pushed, and {team} had to stop."),
    "resolve:dark:happy": ("{Team} found a (lamp|light|candle), and the light showed the way.", "Then the moon came out and lit the way[ like a silver lantern| beautifully]."),
    "resolve:dark:sad": ("It was too dark to see (anything|the path|the {obj}).", "In the <dark|darkness|gloom>, {team} could not see a thing."),
    "resolve:tired:happy": ("{Team} sat down for a rest and soon felt strong again.", "After a little (nap|rest|drink of water), {team} felt ready to go."),
    "resolve:tired:sad": ("{team} {team_was} too tired to go on.", "{Team} had to stop and rest, and the {time} was soon over."),
    "resolve:dog:happy": ("{Team} gave the dog a pat, and it went away wagging its tail.", "The dog was only playing, and soon it ran off."),
    "resolve:dog:sad": ("The dog barked and barked, and {team} had to run away.", "The dog would not go, and {team} {team_was} too scared to stay."),
    "resolve:mud:happy": ("{Team} found stones to step on and got across the mud.", "Step by step, {team} got out of the mud."),
    "resolve:mud:sad": ("The mud was too deep for {Team}.", "{Team} got stuck in the mud and had to turn back."),
    "resolve:lost:happy": ("Then {team} saw a sign and found the way again.", "A kind (bird|rabbit|squirrel) showed {team_them} the way[ with a cheerful chirp| home]."),
    "resolve:lost:sad": ("{Team} walked and walked, but everything <looked|appeared|seemed> the same.", "{team} did not find the way for a long time."),
    "resolve:river:happy": ("{Team} found a log and walked across it.", "{Team} found some big stones and jumped across the river."),
    "resolve:river:sad": ("The water was too deep to cross.", "{Team} could not find a way across the river."),
    "resolve:snow:happy": ("{Team} put on warm (hats|boots|coats) and <kept going|pressed on|soldiered on>.", "{Team} made a path through the snow[ with a sturdy stick| one footstep at a time]."),
    "resolve:snow:sad": ("The snow was too deep to walk in.", "Soon the snow covered (everything|the path|the {obj})."),
    "resolve:fall:happy": ("{Hero} got up, brushed off {his} knees, and tried again.", "It hurt a little, but {Hero} got up again."),
    "resolve:fall:sad": ("It hurt so much that {Hero} could not go on.", "{Hero} sat on the ground and <cried|sobbed|wept>."),
    "resolve:hungry:happy": ("{Team} ate a quick snack and felt much better.", "{Team} had some (bread and milk|apples|cookies|soup), and then {team} {team_was} ready."),
    "resolve:hungry:sad": ("{Hero} was too hungry to keep going.", "There was nothing to eat, and {Hero} felt weak."),
    "resolve:cold:happy": ("{Team} put on warm (coats|hats|socks) and <kept going|pressed on|carried on>.", "{Team} ran and jumped to get warm again."),
    "resolve:cold:sad": ("It was too cold to stay {at_place}.", "{team} {team_was} so cold that {team} had to go inside."),
    "resolve:bee:happy": ("{Team} stood very still, and the bee flew away.", "The bee only wanted to find a flower, and soon it was gone."),
    "resolve:bee:sad": ("The bee would not go away, so {team} ran off.", "The bee buzzed and buzzed, and {team} had to leave {the_place}."),
    "resolve:goat:happy": ("{Team} gave the goat some (grass|hay|carrots), and it moved out of the way.", "The goat ate an apple and walked away."),
    "resolve:goat:sad": ("The goat would not move.", "The goat chased {team_them} away."),
    "resolve:noise:happy": ("It was only a (cat|bird|mouse|frog), and {team} laughed.", "The noise was just the wind, and {team} felt better."),
    "resolve:noise:sad": ("The noise was too scary, and {team} ran home.", "{team} {team_was} too scared to go on."),
    "resolve:door:happy": ("{Team} found the key under a (mat|rock|pot) and opened the door.", "{Team} pushed very hard, and the door opened."),
    "resolve:door:sad": ("Nobody had the key.", "The door stayed shut (all {time}|for good)."),
}

TRY: T = {
    "try:find": (
        "{Team} <looked|searched|hunted> everywhere.",
        "{Team} <looked|searched|rummaged> under and behind everything[, even inside the most unlikely places| twice over].",
        "{team} <looked|searched|hunted> for a long time.",
        "{Team} walked all around {the_place} to <look|search|hunt>.",
        "{Team} looked (up|down|left and right|near and far) for the {obj}.",
    ),
    "try:fix": (
        "{Team} got some (tape|glue|string|tape and glue).",
        "{Team} tried to fix {it} with some (string|tape|glue)[ and a great deal of patience| and a button].",
        "{Team} worked hard on {it}.",
    ),
    "try:reach": (
        "{Team} jumped and jumped, but {it_subj} {obj_was} too high.",
        "{Team} tried to climb up[, gripping every branch| inch by inch].",
        "{Team} found a long (stick|rope|ladder) and tried to get {it}.",
    ),
    "try:make": (
        "{Team} got everything ready.",
        "{Team} worked very hard[ for hours on end| without a single break].",
        "{Team} worked on {it} all {time}.",
    ),
    "try:give": (
        "{Team} wrapped {it} in (pretty|pink|blue|shiny|red) paper.",
        "{Team} walked carefully to the house of {recipient}.",
        "{Team} put a big (bow|ribbon|card) on {it}.",
    ),
    "try:share": (
        "{Hero} thought about it for a while.",
        "{Hero} kept {it} close and thought very hard.",
        "{Hero} <looked at|gazed at|glanced at> {Friend} and then at the {obj}.",
    ),
    "try:carry": (
        "{Team} walked slowly and carefully[ along the winding path| so as not to stumble].",
        "{Team} did not run, not even once.",
        "{Team} took (small|tiny|slow) steps all the way.",
    ),
}

OUTCOME: T = {
    "outcome:find:happy": (
        "At last, {team} found {it} {spot}.",
        "Then {Hero} saw {it} {spot}.",
        "{Team} <looked|searched|peeked> {spot}, and there {it_subj} {obj_was}.",
        "(Finally|At last|In the end), {he} found {his} {obj} {spot}.",
    ),
    "outcome:find:sad": (
        "But {his} {obj} {obj_was} gone, and {team} could not find {it}.",
        "{Team} <looked and looked|searched and searched|hunted high and low>, but {team} never found {it}.",
        "{his} {obj} {obj_was} lost (forever|for good).",
    ),
    "outcome:fix:happy": (
        "At last, {his} {obj} {obj_was} as good as new.",
        "Soon {his} {obj} {obj_was} fixed.",
        "{Team} fixed {it}, and {it_subj} <looked|appeared|seemed> great.",
    ),
    "outcome:fix:sad": (
        "But {his} {obj} {obj_was} too broken to fix.",
        "{Team} tried and tried, but {it_subj} stayed broken.",
        "The {obj} broke again, and this time {it_subj} could not be fixed.",
    ),
    "outcome:reach:happy": (
        "At last, {team} got {it} down.",
        "With one big jump, {Hero} got {his} {obj} back.",
        "Then a kind (bird|squirrel|giraffe) gave {his} {obj} a push, and down {it_subj} came.",
    ),
    "outcome:reach:sad": (
        "But {his} {obj} {obj_was} too high, and {team} could not get {it}.",
        "{his} {obj} stayed {spot}, and {Hero} had to go home without {it}.",
        "Then {his} {obj} fell, and {it_subj} broke.",
    ),
    "outcome:make:happy": (
        "At last, the {obj} {obj_was} ready, and {it_subj} <looked|appeared> (beautiful|perfect|wonderful).",
        "{Team} made the best {obj} ever.",
        "When {team} {team_was} done, the {obj} <looked|appeared|seemed> just right.",
    ),
    "outcome:make:sad": (
        "But the {obj} did not turn out right.",
        "{Team} tried, but the {obj} fell apart.",
        "At the end, the {obj} <looked|appeared|seemed> all wrong.",
    ),
    "outcome:give:happy": (
        "{recipient} loved the gift and gave {Hero} a big hug.",
        "{recipient} smiled and <said thank you|expressed heartfelt thanks|thanked {Hero} warmly>.",
        "When {recipient} saw the gift, {recipient} laughed with joy.",
    ),
    "outcome:give:sad": (
        "But on the way, {he} dropped {it} in a (puddle|pond|hole).",
        "But {recipient} was not home, and {he} had to take {it} back.",
        "But the {obj} got lost on the way.",
    ),
    "outcome:share:happy": (
        "{Hero} shared {his} {obj} with {Friend}, and they both smiled.",
        "{Hero} and {Friend} shared the {obj} and had so much fun.",
        "{Hero} gave {Friend} a turn, and they played together all {time}.",
    ),
    "outcome:share:sad": (
        "But {Hero} did not want to share, and {Friend} went home.",
        "{Hero} kept the {obj} for {himself}, and soon {he} was all alone.",
        "{Hero} would not share, so {Friend} walked away.",
    ),
    "outcome:carry:happy": (
        "{Team} got home, and the {obj} {obj_was} safe.",
        "At last, {team} got {it} home safe and sound.",
        "When {he} got home, the {obj} {obj_was} just fine.",
    ),
    "outcome:carry:sad": (
        "But {he} dropped {it} on the way home.",
        "When {he} got home, the {obj} {obj_was} ruined.",
        "On the way home, the {obj} fell in the (mud|river|snow|grass).",
    ),
}

ENDING: T = {
    "feeling_end:happy": (
        "{Hero} felt {feeling_end}[, happier than {he} had felt in weeks| and wonderfully light].",
        "{Hero} was so {feeling_end}.",
        "{Hero} felt (very|so|really) {feeling_end} that {time}.",
        "Now {Hero} was {feeling_end}.",
        "{Hero} felt {feeling_end} and smiled from ear to ear.",
        "{he} (jumped up and down|danced around|clapped {his} hands) because {he} was so {feeling_end}.",
    ),
    "feeling_end:sad": (
        "{Hero} felt {feeling_end}[, and the world seemed grey| and could not stop sniffling].",
        "{Hero} was so {feeling_end}.",
        "Now {Hero} was {feeling_end}.",
        "{Hero} felt {feeling_end}, and a tear <ran|trickled|rolled> down {his} face.",
        "{he} sat down, feeling (very|so) {feeling_end}.",
        "{Hero} felt {feeling_end} all the way home.",
    ),
    "say_end:happy": (
        "\"Thank you, {Friend}!\" said {Hero}[ gratefully| with a beaming smile].",
        "\"We did it!\" (shouted|said|cried) {Hero}.",
        "\"This is the best day ever!\" said {Hero}.",
        "{Hero} said, \"I am so {feeling_end}!\"",
        "\"I knew I could do it,\" said {Hero}[ proudly| with satisfaction].",
        "\"Look at (that|this|my {obj})!\" said {Hero} with a big smile.",
    ),
    "say_end:sad": (
        "\"Oh no,\" said {Hero} softly.",
        "\"Maybe next time,\" said {Hero} with a sigh.",
        "\"I wish things were different,\" said {Hero}[ mournfully| to nobody in particular].",
        "{Hero} said, \"I feel so {feeling_end}.\"",
        "\"It is not fair,\" {Hero} said.",
        "\"(Poor|My poor) {obj},\" said {Hero}.",
    ),
    "parent:happy": (
        "{Parent} gave {Hero} a big (hug|kiss)[ and ruffled {his} hair| and laughed delightedly].",
        "{Parent} smiled and said, \"Well done, {Hero}!\"",
        "That night, {Parent} made (dinner|soup|a cake|a pie) for {Hero}.",
        "{Parent} was (very|so) happy for {Hero}.",
        "When {Parent} (found out|saw the {obj}|saw {him}), {phe} laughed and clapped.",
    ),
    "parent:sad": (
        "{Parent} gave {Hero} a big hug[ and whispered soothing words| that lasted a long time].",
        "\"It is okay, {Hero},\" said {Parent}.",
        "{Parent} said, \"We can (try again|look again|make another one) tomorrow.\"",
        "{Parent} hugged {Hero} until {he} felt a little better.",
        "{Parent} made {Hero} some warm (milk|soup|cocoa).",
    ),
    "closing:happy": (
        "That night, {Hero} <went to bed|retired to bed|climbed into bed> with a big smile[ and dreamed of new adventures| on {his} face].",
        "{Hero} could not wait to play again tomorrow.",
        "And {Hero} lived happily ever after.",
        "It was a {time} that {Hero} would always remember.",
    ),
    "closing:sad": (
        "That night, {Hero} <went to bed|retired to bed|crept into bed> early.",
        "{Hero} hoped that tomorrow would be better[ and that the sun would shine again| than today].",
        "{Hero} walked home (slowly|from {the_place}) (that {time}|with {his} head down).",
        "It was a {time} that {Hero} wanted to forget.",
    ),
}

LESSON: T = {
    "lesson:never_give_up": (
        "{Hero} learned that it is good to keep trying.",
        "From that day on, {Hero} never gave up[, however difficult things became| on anything].",
        "{Hero} knew that if you keep trying, you can do it.",
    ),
    "lesson:friends_help": (
        "{Hero} learned that friends help each other.",
        "That {time}, {Hero} learned how nice it is to have a friend[ like {Friend}| by {his} side].",
        "{Hero} and {Friend} knew that they could do anything together.",
    ),
    "lesson:be_brave": (
        "{Hero} learned that it is good to be brave.",
        "From then on, {Hero} was never scared to try new things.",
        "{Hero} knew that being brave can help[ even when things look hopeless| in difficult moments].",
    ),
    "lesson:good_things_take_time": (
        "{Hero} learned that good things take time.",
        "{Hero} <learned to wait and not give up|discovered the value of patience|realised that waiting pays off>.",
        "{Hero} knew that good things come to those who wait.",
    ),
    "lesson:sharing_is_good": (
        "{Hero} learned that sharing makes everyone happy.",
        "{Hero} knew that giving is as nice as getting.",
        "From that day on, {Hero} liked to share[ whatever {he} had| with everybody].",
    ),
    "lesson:be_careful": (
        "{Hero} <learned to be|resolved to be|vowed to be> more careful.",
        "From then on, {Hero} was always careful with {his} things.",
        "{Hero} knew that next time {he} would be careful[ from the very beginning| every step of the way].",
    ),
    "lesson:ask_for_help": (
        "{Hero} learned that it is good to ask for <help|assistance|guidance>.",
        "Next time, {Hero} would ask for <help|assistance|guidance>.",
        "{Hero} knew that it is okay to ask others for <help|assistance|support>.",
    ),
    "lesson:sad_is_okay": (
        "{Hero} learned that it is okay to feel sad sometimes.",
        "{Hero} knew that sad days do not last forever.",
        "{Hero} learned that everyone has a bad day[ now and then| once in a while].",
    ),
    "lesson:new_day": (
        "{Hero} knew that tomorrow would be a new day.",
        "Tomorrow, {Hero} would try again.",
        "{Hero} knew that there would be other days[ full of sunshine| and other chances].",
    ),
}

TEMPLATES: T = {
    **OPENING, **TAILS, **PROBLEM, **WANT, **SAY_GOAL, **FRIEND, **OBSTACLE, **SAY_OBSTACLE,
    **RESOLVE, **TRY, **OUTCOME, **ENDING, **LESSON,
}
