"""Street addresses for the privacy scanner: templates, locales and look-alikes of their own.

Written without reading the scanner or the dev generators, from the places an agent's traces
carry a street line: chat turns, tool outputs, logs, tables, mail, forms, orders, geocoding,
CRM records, lists and postal blocks, many of them with no cue word before the street. The
labelled value is the street line (with a unit written on that line), never the post code or
city. The set was held out and measured (its street lines at `address` recall 0.762 and
precision 0.951, its names at `person` 0.462 / 0.706), then moved to dev: its misses are seen
now. `make_splits.py` calls `add_rows` on a `Split` built from `SEED` and `LOCALES`.
"""

SEED = 4747
LOCALES = ["en_US", "en_AU", "es_AR", "pt_PT", "hu_HU", "uk_UA", "el_GR", "he_IL", "fa_IR", "fr_DZ", "mr_IN",
           "th_TH", "ko_KR"]

# The country each locale's texts name.
COUNTRY = {
    "en_US": "USA", "en_AU": "Australia", "es_AR": "Argentina", "pt_PT": "Portugal", "hu_HU": "Hungary",
    "uk_UA": "Ukraine", "el_GR": "Greece", "he_IL": "Israel", "fa_IR": "Iran", "fr_DZ": "Algeria", "mr_IN": "India",
    "th_TH": "Thailand", "ko_KR": "South Korea",
}

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def _fa(r, f):
    # Faker's Persian street lines put the number first; people write the street type first.
    kind = r.choice(["خیابان", "بلوار", "کوچه"])
    line = f"{kind} {f.last_name()}، پلاک {r.randint(1, 240)}"
    if r.random() < 0.3:
        line = f"{kind} {f.last_name()}، کوچه {f.last_name()}، پلاک {r.randint(1, 90)}"
    return line.translate(PERSIAN_DIGITS) if r.random() < 0.5 else line


def _mr(r, f):
    if r.random() < 0.5:
        return f.street_address()
    return f"{r.randint(1, 300)}, {f.street_name()} {r.choice(['मार्ग', 'रोड', 'पथ'])}"


def _he(r, f):
    line = f.street_address()
    return "רחוב " + line if r.random() < 0.3 else line


# Street lines where Faker's own form is not how the locale writes one.
BASES = {"fa_IR": _fa, "mr_IN": _mr, "he_IL": _he, "ko_KR": lambda r, f: f.road()}

# A unit, floor or building on the street's line, placed as the locale places it; a line that
# already carries one keeps it.
UNITS = {
    "en_US": lambda r, f, s: s if "Apt." in s or "Suite" in s else r.choice([
        f"{s} Apt {r.randint(1, 40)}{r.choice('ABCD')}", f"{s}, Suite {r.randint(100, 950)}",
        f"{s} #{r.randint(2, 30)}", f"{s}, Unit {r.randint(1, 60)}"]),
    "en_AU": lambda r, f, s: s if "/" in s or not s[0].isdigit() else r.choice([
        f"{r.randint(1, 30)}/{s}", f"Unit {r.randint(1, 30)}, {s}", f"Level {r.randint(2, 20)}, {s}"]),
    "es_AR": lambda r, f, s: r.choice([
        f"{s} Piso {r.randint(1, 14)} Dto. {r.choice('ABCDE')}", f"{s}, {r.randint(1, 12)}° {r.choice('ABC')}",
        f"{s} PB {r.randint(1, 4)}"]),
    "pt_PT": lambda r, f, s: r.choice([
        f"{s}, {r.randint(1, 8)}.º {r.choice(['Esq.', 'Dto.', 'Frente'])}", f"{s}, R/C Dto.",
        f"{s} {r.randint(1, 6)}º{r.choice('ABC')}"]),
    "hu_HU": lambda r, f, s: r.choice([
        f"{s} {r.randint(1, 9)}. em. {r.randint(1, 40)}.", f"{s} fsz. {r.randint(1, 6)}.",
        f"{s} {r.randint(1, 9)}/{r.randint(1, 40)}."]),
    "uk_UA": lambda r, f, s: s if "кв." in s else f"{s}, кв. {r.randint(1, 180)}",
    "el_GR": lambda r, f, s: r.choice([f"{s}, {r.randint(1, 7)}ος όροφος", f"{s}, διαμ. {r.randint(1, 20)}"]),
    "he_IL": lambda r, f, s: r.choice([f"{s} דירה {r.randint(1, 40)}", f"{s}, קומה {r.randint(1, 12)}"]),
    "fa_IR": lambda r, f, s: f"{s}، {r.choice(['واحد', 'طبقه'])} {r.randint(1, 12)}",
    "fr_DZ": lambda r, f, s: r.choice([
        f"{s}, appt {r.randint(1, 40)}", f"{s}, {r.randint(1, 9)}e étage", f"Bât. {r.choice('ABCDE')}, {s}"]),
    "mr_IN": lambda r, f, s: r.choice([f"फ्लॅट नं. {r.randint(1, 40)}, {s}", f"{s}, {r.randint(1, 9)} वा मजला"]),
    "th_TH": lambda r, f, s: f"ชั้น {r.randint(2, 30)} เลขที่ {s}",
    "ko_KR": lambda r, f, s: r.choice([
        f"{s}, {r.randint(101, 115)}동 {r.randint(1, 25)}0{r.randint(1, 4)}호", f"{s} {r.randint(2, 12)}층"]),
}


def street(split, loc, f, unit, quotes_ok=True):
    """A street line as `loc` writes it; `unit` adds a flat, floor or suite on the same line."""
    r = split.rnd
    while True:
        line = BASES.get(loc, lambda r, f: f.street_address())(r, f)
        if unit:
            line = UNITS[loc](r, f, line)
        # A JSON writer escapes a quote, so a value with one would not appear as written.
        if quotes_ok or '"' not in line:
            return line


def person(loc, f):
    """A name without title, family name first where the locale puts it first."""
    if loc == "ko_KR":
        return f.last_name() + f.first_name()
    if loc == "hu_HU":
        return f"{f.last_name()} {f.first_name()}"
    return f"{f.first_name()} {f.last_name()}"


def context(split, loc, f):
    """The unlabelled fields a template may name, from the same locale as its street."""
    r = split.rnd
    day = r.randint(1, 28)
    return {
        "city": f.city(), "zip": f.postcode(), "country": COUNTRY[loc], "phone": f.phone_number(),
        "email": f.email(), "company": f.company(), "date": f"2026-{r.randint(1, 12):02d}-{day:02d}",
        "time": f"{r.randint(7, 20):02d}:{r.choice(['00', '15', '30', '45'])}",
        "time2": f"{r.randint(7, 20):02d}:{r.choice(['05', '20', '40', '55'])}",
        "order": f"{r.choice(['SO', 'ORD-', '#', 'W'])}{r.randint(100000, 999999)}", "n": str(r.randint(10, 9999)),
        "amount": f"{r.randint(4, 480)}.{r.randint(0, 99):02d}", "lat": f"{r.uniform(-40, 60):.5f}",
        "lng": f"{r.uniform(-120, 140):.5f}",
        "ts": f"2026-11-{day:02d}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}Z",
    }


# Templates with no cue word before the street. Flags: j = inside JSON (no raw quote in the
# value), c = a CSV field (quoted when it holds a comma), u = a unit on the line, U = upper case.
BARE = [
    ("Hi, I moved last month, my new place is {address_1}, {city}. Can you update my account?", ""),
    ("user: the parcel never arrived. it was supposed to go to {address_1} {zip} {city}", ""),
    ("assistant: I've set the pickup point to {address_1}, {city}. Your driver arrives in about 8 minutes.", ""),
    ("I'm standing outside {address_1} and the shop is closed, is there another branch nearby?", ""),
    ("can you send the replacement to my office instead: {address_1}, reception on the ground floor", "u"),
    ('{"tool": "geocode", "result": {"lat": {lat}, "lng": {lng}, "label": "{address_1}, {zip} {city}"}}', "j"),
    ('{"stop": 4, "eta": "{time}", "dest": "{address_1}", "status": "en_route"}', "j"),
    ('tool_result: {"matches": [{"name": "{company}", "where": "{address_1}", "distance_m": {n}}]}', "j"),
    ('Observation: {"venue": "{company}", "location": "{address_1}, {city}", "starts": "{date} {time}"}', "j"),
    ('[{"ride": {n}, "pickup": "{address_1}", "dropoff": "{address_2}", "fare": {amount}}]', "j"),
    ('call maps.directions({"origin": "{address_1}", "destination": "{address_2}", "mode": "driving"})', "j"),
    ('{ts} INFO dispatch: courier {n} assigned to "{address_1}" zone=7', ""),
    ('[WARN] geocoder: low confidence (0.41) for "{address_1} {city}", falling back to centroid of {zip}', ""),
    ("Nov 28 10:14:07 web-3 checkout[2211]: user {n} saved destination {address_1}, {city}", ""),
    ("order_id;recipient;ship_to;total\n{order};{person};{address_1};{amount}", ""),
    ("| Stop | Location | ETA |\n|---|---|---|\n| 1 | {address_1} | {time} |\n| 2 | {address_2} | {time2} |", ""),
    ("{person}\t{address_1}\t{city}\t{phone}", ""),
    ("customer,visit_date,site\n{company},{date},{address_1}", "c"),
    ("Best regards,\n{person}\n{company}\n{address_1}\n{zip} {city}\nTel. {phone}", ""),
    ("Subject: Viewing on Saturday\n\nHi {person},\n\nthe flat at {address_1} is still available. Would 11:00 suit you?\n\nThanks", "u"),
    ("From: {email}\nSubject: Wrong delivery\n\nMy order {order} went to {address_2} instead of {address_1}. Please sort it out.", ""),
    ("Dear {person},\nplease return the signed contract to our office:\n{company}\n{address_1}\n{zip} {city}\n{country}", ""),
    ("Your order {order} has shipped! It will be delivered to {person}, {address_1}, {city} {zip} on {date}.", ""),
    ("Booking confirmed: 2 nights at {company}, {address_1}, {city}. Check-in from 15:00.", ""),
    ('{"results": [{"formatted": "{address_1}, {zip} {city}, {country}", "confidence": 9, "components": {"postcode": "{zip}"}}]}', "j"),
    ('reverse_geocode(lat={lat}, lon={lng}) -> "{address_1}, {city}"', ""),
    ("Lead {n} | {person} | {company} | {address_1} | {phone} | created {date}", ""),
    ("Deliveries for van 3:\n1) {address_1}\n2) {address_2}\n3) back to the warehouse", ""),
    ("Open houses this weekend:\n• {address_1}, Sat 10-12\n• {address_2}, Sun 14-16", ""),
    ("{person}\n{address_1}\n{zip} {city}\n{country}", ""),
    ("Please leave it with the concierge at {address_1}.", "u"),
    ("We've moved! From Monday you'll find us at {address_1}, {city}. Take the lift on the left.", "u"),
    ("Ur package is out for delivery to {address_1} today. Reply STOP to opt out", ""),
    ("customer:\n  name: {person}\n  home: {address_1}\n  city: {city}", ""),
    ("Thought: the user wants the pharmacy closest to {address_1}. I'll call places.search near that point.", ""),
    ("**{person}** moved from {address_2} to {address_1} in October; contract follows.", ""),
]

# Templates with a cue word (in a label, a key or a column name) before the street.
CUED = [
    ('{"customer_id": "C-{n}", "name": "{person}", "shipping": {"line1": "{address_1}", "city": "{city}", "postal_code": "{zip}"}}', "j"),
    ('{"event": "order.created", "order_id": "{order}", "deliver_to": {"name": "{person}", "street": "{address_1}", "zip": "{zip}"}}', "j"),
    ('{"home_address": "{address_1}", "city": "{city}", "verified": true}', "j"),
    ('level=error msg="address check failed" input="{address_1}" reason=unknown_street', ""),
    ("id,name,street,city,zip\n{n},{person},{address_1},{city},{zip}", "c"),
    ("Form submission #{n}\nFull name: {person}\nAddress: {address_1}\nPostcode: {zip}\nCity: {city}", ""),
    ("Street and number: {address_1}\nApartment, suite (optional):\nTown/City: {city}", ""),
    ("Contact: {person}\nCompany: {company}\nMailing address: {address_1}, {city} {zip}\nStage: Qualified", ""),
    ('account.update(id={n}, billing_street="{address_1}", billing_city="{city}")', "j"),
    ("SHIP TO:\n{person}\n{address_1}\n{city} {zip}", "U"),
    ("<Recipient><Name>{person}</Name><AddressLine1>{address_1}</AddressLine1><PostCode>{zip}</PostCode></Recipient>", ""),
    ("payment ok card=****4417 avs_street={address_1} avs_zip={zip}", ""),
]

# Sentences in the locale's own language; the Spanish, Ukrainian and Greek first ones and the
# second Korean one have a cue word.
NATIVE = {
    "en_US": ["Can you swing by {address_1} on your way? I'll be out front."],
    "en_AU": ["parcel's meant to go to {address_1}, {city} {zip} but tracking says it's still at the depot"],
    "es_AR": ["Hola, te paso la dirección para el envío: {address_1}, {city}. Tocá timbre.",
              "El pedido llega mañana a {address_1}, {city}, entre las 9 y las 13."],
    "pt_PT": ["Boa tarde, a encomenda deve ser entregue em {address_1}, {zip} {city}."],
    "hu_HU": ["Holnap 10-kor a {address_1} előtt várlak, {city}."],
    "uk_UA": ["Доставте, будь ласка, за адресою: {address_1}, {city}, {zip}.",
              "Кур'єр буде о {time}: {address_1}, {city}."],
    "el_GR": ["Καλησπέρα, το δέμα να παραδοθεί στη διεύθυνση {address_1}, {zip} {city}."],
    "he_IL": ["נפגש מחר ב-{time} ליד {address_1}, {city}."],
    "fa_IR": ["سلام، لطفاً سفارش را به {address_1}، {city} بفرستید."],
    "fr_DZ": ["Bonjour, vous pouvez livrer la commande au {address_1}, {city} ? Je suis là après 17h."],
    "mr_IN": ["नमस्कार, कृपया पार्सल {address_1}, {city} - {zip} येथे पाठवा."],
    "th_TH": ["ส่งของที่ {address_1} {city} {zip} นะคะ"],
    "ko_KR": ["내일 오후 3시에 {address_1} 앞에서 만나요.",
              "배송지: {city} {address_1}"],
}

# Texts that look like they might hold a street but hold none.
LOOKALIKES = [
    "Gate B14 closes 20 minutes before departure; boarding starts at 10:35.",
    "Your room is 1207 on the 12th floor, the lifts are left of reception.",
    "The train to {city} leaves from platform 9 at 17:42.",
    "Samsung Galaxy Tab S9 FE 128 GB, 2 in stock",
    "Bumped serde from 1.0.193 to 1.0.215 and tokio to 1.41.1",
    "Order {order}: 3 x Oak Desk 160 Classic, 1 x Cable Tray 80",
    "Chapter 7: The House on Maple Avenue",
    "{company} reported revenue of 41.2 million in Q3 2026.",
    "Meeting on 12 Dec 2026 at 14:30 in conference room 3B.",
    "replicas: 3\nmemory: 512Mi\nport: 8080",
    "Weather in {city} ({zip}): 18 °C, light rain",
    "Delivery takes 3 to 5 working days within {country}.",
    "Flight LH 1234 arrives at Terminal 2, Hall E.",
    "Seat 23C, coach 11",
    "Bus 42 via Central Station every 10 minutes",
    "Step 3 of 5: choose a delivery slot",
    "Main Street Pharmacy is open until 21:00 today.",
    "Highway 401 is closed between exits 370 and 375 after a crash.",
    "Invoice INV-2026-0412, total 1,240.00, due 2026-12-31",
    "Lot 14: Victorian oak bureau, estimate 800-1,200",
    "214 passed, 3 skipped in 12.4 s",
    "Floor plan: 2 bedrooms, 1 bathroom, 74 m²",
    "Suite 2 of the benchmark runs 100 queries per connection.",
    "Table 12 ordered 2 x Margherita and 1 x Tiramisu",
    "ISO 9001:2015 certified since 2019",
    "Firmware 4.12.7 (build 20261103) is rolling out to 30 % of devices.",
    "Ward 5, bed 14: discharge planned for Friday",
    "Section 230 of the Communications Decency Act",
    "Box 3 of 12: kitchenware, fragile",
    "Track 7 - Fifth Avenue Blues (3:42)",
    "Dock door 14, trailer 5521, ETA 06:30",
    "Population of {city}: about 120,000 on 46 km²",
    "Price per unit 12.50, MOQ 500, lead time 21 days",
    "GET /users/1532/orders/88 returned 404",
    "Postcode {zip} is outside our delivery area for {city}.",
    "Parking space 117, row C, second basement",
    "Aisle 12, shelf 4, bin 22",
    "{company}, founded 1998, 250 employees",
    "Vuelo AR 1302, puerta 7, embarque 14:10",
    "Аудиторія 214, корпус 3, 2-й поверх",
    "3번 출구로 나와서 2층 카페로 오세요",
]


def fill(template, fields):
    """The template with its unlabelled `{field}`s filled."""
    for key, val in fields.items():
        template = template.replace("{" + key + "}", val)
    return template


def row(split, loc, template, flags):
    """One labelled text from a template, its streets, names and other fields all from `loc`."""
    f = split.fakers[LOCALES.index(loc)]
    unit = "u" in flags or split.rnd.random() < 0.2
    labels = {"person": person(loc, f)} if "{person}" in template else {}
    labels["address_1"] = street(split, loc, f, unit, "j" not in flags)
    if "{address_2}" in template:
        labels["address_2"] = street(split, loc, f, split.rnd.random() < 0.2, "j" not in flags)
    for key, val in labels.items():
        # A sentence's full stop merges with a value's closing one ("utca 12.", "Dto.").
        if val.endswith("."):
            template = template.replace("{" + key + "}.", "{" + key + "}")
    fields = context(split, loc, f)
    # A phone number or an e-mail address a template names is one: it is labelled too (drawn with
    # the other fields, so the text is what it was while the set was held out).
    for kind in ("phone", "email"):
        if "{" + kind + "}" in template:
            labels[kind] = fields[kind]
    if "U" in flags:
        labels = {k: v.upper() for k, v in labels.items()}
        fields = {k: v.upper() for k, v in fields.items()}
    if "c" in flags:
        # A CSV writer quotes a field that holds the separator.
        for key, val in labels.items():
            if "," in val:
                template = template.replace("{" + key + "}", '"{' + key + '}"')
        fields = {k: f'"{v}"' if "," in v else v for k, v in fields.items()}
    split.add(fill(template, fields), **labels)


def add_rows(split, values=100):
    """Rows for every template once, then more generic rows until about `values` streets."""
    generic = BARE + CUED
    for template, flags in generic:
        row(split, split.pick(LOCALES), template, flags)
    for loc, templates in NATIVE.items():
        for template in templates:
            row(split, loc, template, "")
    again = generic[:]
    split.rnd.shuffle(again)
    for template, flags in again:
        if sum(k == "address" for r in split.rows for k, _ in r["find"]) >= values:
            break
        row(split, split.pick(LOCALES), template, flags)
    for text in LOOKALIKES:
        loc = split.pick(LOCALES)
        split.neg(fill(text, context(split, loc, split.fakers[LOCALES.index(loc)])))
