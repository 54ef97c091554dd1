"""A fresh held-out set for the privacy scanner: street lines, names, phones, dates of birth and passports.

Written without reading the scanner, its lexicons, its tests or the dev generators; only the
`Split` API of `make_splits.py` and the labelling convention of `heldout_streets.py` (now `seen_streets.py`) were read.
The texts are what an agent's traces carry: support chat in the locale's language and in English,
JSON tool calls and results, logs, CSV and Markdown tables, YAML, mail bodies and signatures,
forms, order, shipping and CRM records, maps results, SMS and tickets, most of them with no cue
word before the value. A street value is the street line (house number, street, and a unit or
building written on that line), never the post code, town or district; a name is the name alone,
without a title. Look-alikes (order, tracking and invoice numbers, dates, amounts, coordinates,
versions, post codes, companies and products named after people, streets named as places with no
house number) carry no value. Where Faker's data for a locale is thin or English-only (streets,
towns, phone numbers), the locale's own forms are written here instead.

`make_splits.py` calls `held_fresh` on a `Split` built from `SEED` (5858) and `LOCALES`: Japanese,
Chinese, Saudi Arabic, Nepali, Sinhala, Gujarati, Ghanaian, Nigerian (Igbo), Romanian, Finnish,
Croatian, Macedonian and Mexican Spanish.
"""

import re

SEED = 5858
LOCALES = ["ja_JP", "zh_CN", "ar_SA", "ne_NP", "si_LK", "gu_IN", "tw_GH", "ig_NG", "ro_RO", "fi_FI", "hr_HR",
           "mk_MK", "es_MX"]

# Locales whose names and streets have a Latin form that English texts use.
ROMANIZED = ("ja_JP", "zh_CN")

COUNTRY = {
    "ja_JP": ("日本", "Japan"), "zh_CN": ("中国", "China"), "ar_SA": ("السعودية", "Saudi Arabia"),
    "ne_NP": ("नेपाल", "Nepal"), "si_LK": ("ශ්‍රී ලංකාව", "Sri Lanka"), "gu_IN": ("ભારત", "India"),
    "tw_GH": ("Ghana", "Ghana"), "ig_NG": ("Nigeria", "Nigeria"), "ro_RO": ("România", "Romania"),
    "fi_FI": ("Suomi", "Finland"), "hr_HR": ("Hrvatska", "Croatia"), "mk_MK": ("Македонија", "North Macedonia"),
    "es_MX": ("México", "Mexico"),
}

# Towns (native, Latin) where Faker's are invented English ones or missing.
TOWNS = {
    "ja_JP": (None, ["Shibuya-ku, Tokyo", "Minato-ku, Tokyo", "Kita-ku, Osaka", "Naka-ku, Nagoya",
                     "Chuo-ku, Fukuoka", "Aoba-ku, Sendai"]),
    "zh_CN": (None, ["Shanghai", "Beijing", "Shenzhen", "Guangzhou", "Hangzhou", "Chengdu", "Wuhan"]),
    "ar_SA": (["الرياض", "جدة", "الدمام", "الخبر", "مكة المكرمة", "المدينة المنورة"],
              ["Riyadh", "Jeddah", "Dammam", "Al Khobar", "Makkah", "Madinah"]),
    "ne_NP": (None, ["Kathmandu", "Lalitpur", "Pokhara", "Bhaktapur", "Biratnagar"]),
    "si_LK": (["කොළඹ 03", "මහනුවර", "ගාල්ල", "මාතර", "කුරුණෑගල", "නුගේගොඩ"],
              ["Colombo 03", "Colombo 05", "Kandy", "Galle", "Matara", "Nugegoda", "Dehiwala"]),
    "gu_IN": (["અમદાવાદ", "સુરત", "વડોદરા", "રાજકોટ", "ગાંધીનગર"],
              ["Ahmedabad", "Surat", "Vadodara", "Rajkot", "Gandhinagar"]),
    "tw_GH": (["Accra", "Kumasi", "Tamale", "Takoradi", "Cape Coast", "Tema", "Koforidua"], None),
    "ig_NG": (["Enugu", "Onitsha", "Owerri", "Awka", "Aba", "Nsukka", "Lagos", "Abuja"], None),
    "es_MX": (["Ciudad de México", "Guadalajara", "Monterrey", "Puebla", "Mérida", "Querétaro", "Oaxaca"], None),
}

# Neighbourhoods a street line is followed by (kept out of the value, like a town).
AREAS = {
    "tw_GH": ["Osu", "East Legon", "Adum", "Dansoman", "Labone", "Spintex"],
    "ig_NG": ["Independence Layout", "GRA", "Trans-Ekulu", "New Haven", "Ikenegbu", "Amawbia"],
    "es_MX": ["Col. Roma Norte", "Col. del Valle", "Col. Centro", "Col. Narvarte", "Col. Americana",
              "Col. Obispado"],
    "ar_SA": ["حي العليا", "حي الروضة", "حي النسيم", "حي الشاطئ"],
}

# Companies where Faker's join family names with an English "and".
COMPANIES = {
    "ar_SA": ["مؤسسة النخبة للتجارة", "شركة الأفق للخدمات اللوجستية", "Al Noor Trading Co."],
    "ne_NP": ["हिमालयन ट्रेडर्स प्रा. लि.", "Everest Cargo Pvt. Ltd."],
    "si_LK": ["ලංකා ට්‍රේඩින් (පුද්.) සමාගම", "Serendib Logistics (Pvt) Ltd"],
    "gu_IN": ["શ્રી ગણેશ ટ્રેડર્સ", "Sahjanand Textiles Pvt. Ltd."],
    "tw_GH": ["Adinkra Logistics Ltd", "Gold Coast Foods", "Kente Hub"],
    "ig_NG": ["Chidi & Sons Ventures", "Eastgate Logistics Ltd", "Ugo Foods Nig. Ltd"],
}

COMPANY_FORMS = {"ro_RO": " SRL", "fi_FI": " Oy", "hr_HR": " d.o.o.", "mk_MK": " ДООЕЛ"}

CURRENCY = {"ja_JP": "JPY", "zh_CN": "CNY", "ar_SA": "SAR", "ne_NP": "NPR", "si_LK": "LKR", "gu_IN": "INR",
            "tw_GH": "GHS", "ig_NG": "NGN", "ro_RO": "RON", "fi_FI": "EUR", "hr_HR": "EUR", "mk_MK": "MKD",
            "es_MX": "MXN"}

ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI_DIGITS = str.maketrans("0123456789", "०१२३४५६७८९")

LATIN_STREETS = {
    "ja_JP": ["Jingumae", "Marunouchi", "Nishi-Shinjuku", "Umeda", "Sakae", "Tenjin", "Roppongi", "Ebisu-Minami"],
    "zh_CN": ["Renmin Road", "Nanjing West Road", "Huaihai Middle Road", "Jianguo Road", "Zhongshan Road",
              "Jiefang Avenue", "Xueyuan Road", "Keyuan Road"],
    "ar_SA": ["King Fahd Road", "Tahlia Street", "Prince Sultan Street", "Olaya Street", "King Abdulaziz Road",
              "Prince Mohammed bin Abdulaziz Road"],
    "ne_NP": ["Lazimpat Road", "Durbar Marg", "Tripureshwor Marg", "Pulchowk Road", "Jhamsikhel Marg",
              "Baneshwor Marg"],
    "si_LK": ["Galle Road", "Kandy Road", "Temple Road", "Station Road", "Flower Road", "Duplication Road",
              "Baseline Road", "Havelock Road", "Dharmapala Mawatha"],
    "gu_IN": ["Ashram Road", "CG Road", "SG Highway", "Ring Road", "Station Road", "MG Road", "Satellite Road"],
}
NATIVE_STREETS = {
    "ar_SA": ["طريق الملك فهد", "شارع التحلية", "طريق الملك عبدالعزيز", "شارع الأمير سلطان", "شارع العليا العام",
              "شارع الستين"],
    "si_LK": ["ගාලු පාර", "මහනුවර පාර", "පන්සල් පාර", "දුම්රියපොළ පාර", "ශ්‍රී ධර්මපාල මාවත", "හැව්ලොක් පාර"],
    "gu_IN": ["આશ્રમ રોડ", "સી.જી. રોડ", "સ્ટેશન રોડ", "ગાંધી માર્ગ", "રિંગ રોડ", "સરદાર પટેલ માર્ગ"],
    "tw_GH": ["Ring Road East", "Liberation Road", "Oxford Street", "Spintex Road", "Kojo Thompson Road",
              "Independence Avenue"],
    "ig_NG": ["Zik Avenue", "Ogui Road", "Okpara Avenue", "Chime Avenue", "Wetheral Road", "New Market Road",
              "Nnamdi Azikiwe Road"],
}
APARTMENTS = ["Shanti", "Shivam", "Sundaram", "Parijat", "Aditya", "Sahjanand"]


def _ja(r, f, unit, latin):
    c, b, g = r.randint(1, 9), r.randint(1, 30), r.randint(1, 25)
    if latin:
        line = r.choice([f"{c}-{b}-{g} {r.choice(LATIN_STREETS['ja_JP'])}",
                         f"{r.choice(LATIN_STREETS['ja_JP'])} {c}-{b}-{g}"])
        return f"{line} #{r.randint(2, 12)}0{r.randint(1, 9)}" if unit else line
    town = f.town()
    line = r.choice([f"{town}{c}丁目{b}番{g}号", f"{town}{c}-{b}-{g}", f"{town}{c}丁目{b}-{g}"])
    if unit:
        line = r.choice([f"{line} {f.last_name()}{f.building_name()}{r.randint(1, 9)}0{r.randint(1, 9)}号室",
                         f"{line}-{r.randint(1, 9)}0{r.randint(1, 9)}",
                         f"{line} {f.building_name()}{f.town()} {r.randint(1, 9)}F"])
    return line


def _zh(r, f, unit, latin):
    n = r.randint(1, 999)
    if latin:
        line = r.choice([f"{n} {r.choice(LATIN_STREETS['zh_CN'])}", f"No. {n} {r.choice(LATIN_STREETS['zh_CN'])}"])
        return f"{line}, Room {r.randint(2, 30)}0{r.randint(1, 9)}" if unit else line
    line = f"{f.street_name()}{n}号"
    if unit:
        line = r.choice([f"{line}{r.randint(1, 12)}栋{r.randint(2, 30)}0{r.randint(1, 9)}室",
                         f"{line}院{r.randint(1, 6)}单元{r.randint(1, 20)}0{r.randint(1, 4)}",
                         f"{line}{r.randint(2, 40)}楼"])
    return line


def _ar(r, f, unit, latin):
    n = str(r.randint(1000, 9999) if r.random() < 0.5 else r.randint(1, 120))
    if latin:
        line = r.choice([f"{n} {r.choice(LATIN_STREETS['ar_SA'])}", f"Bldg {n}, {r.choice(LATIN_STREETS['ar_SA'])}"])
        return f"{line}, {r.choice(['Apt', 'Office', 'Floor'])} {r.randint(1, 30)}" if unit else line
    street = r.choice(NATIVE_STREETS["ar_SA"] + [f"شارع {f.last_name()}"])
    if r.random() < 0.4:
        n = n.translate(ARABIC_DIGITS)
    line = r.choice([f"{n} {street}", f"{street}، مبنى رقم {n}", f"{street} {n}"])
    return f"{line}، {r.choice(['شقة', 'الدور', 'مكتب'])} {r.randint(1, 20)}" if unit else line


def _ne(r, f, unit, latin):
    n = str(r.randint(1, 400))
    if latin:
        line = r.choice([f"House No. {n}, {r.choice(LATIN_STREETS['ne_NP'])}",
                         f"{n} {r.choice(LATIN_STREETS['ne_NP'])}"])
        return f"{line}, {r.choice(['2nd', '3rd', '4th'])} floor" if unit else line
    if r.random() < 0.5:
        n = n.translate(DEVANAGARI_DIGITS)
    street = f.street_name()
    line = r.choice([f"{street}, घर नं. {n}", f"घर नं. {n}, {street}", f"{street} {n}"])
    return f"{line}, {r.choice(['दोस्रो', 'तेस्रो', 'चौथो'])} तल्ला" if unit else line


def _si(r, f, unit, latin):
    n = r.choice([str(r.randint(1, 400)), f"{r.randint(1, 200)}/{r.randint(1, 9)}", f"{r.randint(1, 90)}A"])
    if latin:
        line = r.choice([f"No. {n}, {r.choice(LATIN_STREETS['si_LK'])}", f"{n} {r.choice(LATIN_STREETS['si_LK'])}"])
    else:
        street = r.choice(NATIVE_STREETS["si_LK"] + [f"{f.last_name()} මාවත"])
        line = r.choice([f"නො. {n}, {street}", f"{n}, {street}"])
    return f"{line}, {r.choice(['Flat', 'Apt'])} {r.randint(1, 12)}{r.choice('ABC')}" if unit else line


def _gu(r, f, unit, latin):
    n = r.randint(1, 300)
    if latin:
        road = r.choice(LATIN_STREETS["gu_IN"])
        if unit:
            return f"{r.choice('ABCD')}-{r.randint(1, 12)}0{r.randint(1, 9)}, {r.choice(APARTMENTS)} Apartments, {road}"
        return f"{n}, {road}"
    road = r.choice(NATIVE_STREETS["gu_IN"] + [f"{f.last_name()} માર્ગ"])
    if unit:
        flat = f"{r.choice('ABCD')}-{r.randint(1, 12)}0{r.randint(1, 9)}"
        return r.choice([f"ફ્લેટ નં. {r.randint(1, 40)}, {n}, {road}", f"{flat}, {f.first_name()} એપાર્ટમેન્ટ, {road}"])
    return f"{n}, {road}"


def _west_african(r, f, loc, unit):
    n = r.randint(1, 120)
    street = r.choice(NATIVE_STREETS[loc] + [
        f"{f.last_name()} {r.choice(['Street', 'Road', 'Close', 'Avenue', 'Lane', 'Crescent'])}"] * 3)
    line = r.choice([f"{n} {street}", f"House No. {n}, {street}", f"Plot {n}, {street}", f"No. {n}, {street}"])
    if unit:
        line = r.choice([f"Flat {r.randint(1, 12)}, {line}", f"{line}, Apartment {r.randint(1, 9)}{r.choice('AB')}",
                         f"Block {r.choice('ABC')}, Flat {r.randint(1, 8)}, {line}"])
    return line


def _ro(r, f, unit, latin):
    street, n = f.street_name(), r.randint(1, 180)
    if r.random() < 0.3:
        street = re.sub(r"^Strada ", "Str. ", street)
        street = re.sub(r"^Bulevardul ", "Bd. ", street)
    line = r.choice([f"{street} nr. {n}", f"{street} {n}", f"{street}, nr. {n}"])
    if unit:
        block = f"bl. {r.choice('ABCDM')}{r.randint(1, 20)}, sc. {r.randint(1, 4)}"
        line = r.choice([f"{line}, {block}, ap. {r.randint(1, 80)}",
                         f"{line}, et. {r.randint(1, 10)}, ap. {r.randint(1, 60)}", f"{line}, ap. {r.randint(1, 40)}"])
    return line


def _faker_line(f):
    """Faker's street line, without the house number 0 it sometimes writes."""
    while True:
        line = f.street_address()
        if not re.search(r" 0", line):
            return line


def _fi(r, f, unit, latin):
    line = _faker_line(f)
    if unit:
        line = r.choice([f"{line} {r.choice('ABCD')} {r.randint(1, 40)}", f"{line} as. {r.randint(1, 30)}",
                         f"{line} {r.choice('ab')}"])
    return line


def _hr(r, f, unit, latin):
    line = _faker_line(f) if r.random() < 0.6 else f"{f.street_name()} ulica {r.randint(1, 140)}"
    return f"{line}, {r.randint(1, 8)}. kat" if unit else line


def _mk(r, f, unit, latin):
    line = r.choice([_faker_line(f), f"ул. {_faker_line(f)}", f"ул. {f.street_name()} бр. {r.randint(1, 120)}"])
    return f"{line}, {r.choice(['кат', 'стан'])} {r.randint(1, 12)}" if unit else line


def _mx(r, f, unit, latin):
    street, n = f.street_name(), r.randint(1, 3500)
    line = r.choice([f"{street} {n}", f"{street} #{n}", f"Calle {f.last_name()} {n}", f"Av. {f.last_name()} {n}"])
    if unit:
        line = r.choice([f"{line}, Int. {r.randint(1, 40)}", f"{line} Depto. {r.randint(101, 904)}",
                         f"{line}, Piso {r.randint(2, 15)}"])
    return line


STREETS = {"ja_JP": _ja, "zh_CN": _zh, "ar_SA": _ar, "ne_NP": _ne, "si_LK": _si, "gu_IN": _gu,
           "tw_GH": lambda r, f, unit, latin: _west_african(r, f, "tw_GH", unit),
           "ig_NG": lambda r, f, unit, latin: _west_african(r, f, "ig_NG", unit),
           "ro_RO": _ro, "fi_FI": _fi, "hr_HR": _hr, "mk_MK": _mk, "es_MX": _mx}


def street(r, loc, f, unit, latin):
    """A street line as the locale writes it; `unit` adds a flat, floor or building on the same line."""
    # A latin line for Arabic, Nepali, Sinhala and Gujarati is how their English texts write one.
    latin = latin or (loc in LATIN_STREETS and loc not in ROMANIZED and r.random() < 0.35)
    return STREETS[loc](r, f, unit, latin)


def person(r, loc, f, latin):
    """A given and family name in the locale's order, without a title."""
    if loc == "ja_JP":
        if latin:
            return f"{f.first_romanized_name()} {f.last_romanized_name()}"
        return f.last_name() + r.choice([" ", "", "　"]) + f.first_name()
    if loc == "zh_CN":
        return f.romanized_name() if latin else f.last_name() + f.first_name()
    if loc == "es_MX" and r.random() < 0.4:
        return f"{f.first_name()} {f.last_name()} {f.last_name()}"
    return f"{f.first_name()} {f.last_name()}"


# Country code, trunk prefix and (area or mobile prefixes, subscriber groups) of each locale's numbers.
PHONE_PLANS = {
    "ja_JP": ("81", "0", [(["90", "80", "70"], [4, 4]), (["3", "6"], [4, 4]), (["45", "52"], [3, 4])]),
    "zh_CN": ("86", "", [(["138", "139", "186", "135", "150", "177"], [4, 4])]),
    "ar_SA": ("966", "0", [(["50", "53", "54", "55", "56", "59"], [3, 4]), (["11", "12", "13"], [3, 4])]),
    "ne_NP": ("977", "", [(["984", "985", "986", "980", "981"], [3, 4])]),
    "si_LK": ("94", "0", [(["70", "71", "72", "75", "76", "77", "78"], [3, 4]), (["11"], [3, 4])]),
    "gu_IN": ("91", "0", [(["98250", "99090", "97240", "63520", "81400"], [5]), (["79"], [4, 4])]),
    "tw_GH": ("233", "0", [(["24", "54", "55", "20", "50", "27"], [3, 4]), (["302"], [3, 3])]),
    "ig_NG": ("234", "0", [(["803", "806", "813", "816", "703", "706", "805", "809", "818", "905"], [3, 4])]),
    "ro_RO": ("40", "0", [(["722", "744", "756", "765", "731"], [3, 3]), (["21"], [3, 2, 2])]),
    "fi_FI": ("358", "0", [(["40", "50", "45", "44"], [3, 4]), (["9"], [4, 4])]),
    "hr_HR": ("385", "0", [(["91", "92", "95", "98", "99"], [3, 4]), (["1"], [4, 3])]),
    "mk_MK": ("389", "0", [(["70", "71", "72", "75", "77", "78"], [3, 3]), (["2"], [3, 4])]),
    "es_MX": ("52", "", [(["55", "33", "81"], [4, 4]), (["222", "999", "442"], [3, 4])]),
}
# Locales whose Faker numbers are written as the country writes them.
FAKER_PHONES = ("ja_JP", "zh_CN", "tw_GH", "ro_RO", "fi_FI", "hr_HR", "mk_MK")


def phone(r, loc, f):
    """A phone number in one of the national or international forms people write."""
    if loc in FAKER_PHONES and r.random() < 0.35:
        return f.phone_number()
    cc, trunk, plans = PHONE_PLANS[loc]
    areas, groups = r.choice(plans)
    area = r.choice(areas)
    subscriber = ["".join(str(r.randint(0, 9)) for _ in range(n)) for n in groups]
    form = r.random()
    if form < 0.4:
        sep = r.choice([" ", " ", "-", ".", ""])
        number = (f"({trunk}{area}) " if r.random() < 0.25 else trunk + area + sep) + sep.join(subscriber)
    elif form < 0.8:
        sep = r.choice([" ", " ", "-"])
        number = f"+{cc}{sep}{area}{sep}{sep.join(subscriber)}"
        if trunk and r.random() < 0.15:
            number = f"+{cc} ({trunk}){area} {' '.join(subscriber)}"
    elif form < 0.92:
        number = f"00{cc} {area} {' '.join(subscriber)}"
    else:
        number = f"+{cc}{area}{''.join(subscriber)}"
    if r.random() < 0.07:
        number += r.choice([f" ext. {r.randint(10, 499)}", f" x{r.randint(10, 99)}", f" ext {r.randint(100, 999)}"])
    return number


MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]
MONTHS_ES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
             "noviembre", "diciembre"]
MONTHS_RO = ["ianuarie", "februarie", "martie", "aprilie", "mai", "iunie", "iulie", "august", "septembrie",
             "octombrie", "noiembrie", "decembrie"]


def dob(r, loc, f, native, iso):
    """A date of birth as the text's language writes one."""
    d = f.date_of_birth(minimum_age=18, maximum_age=88)
    y, m, day = d.year, d.month, d.day
    if iso:
        return r.choice([d.isoformat(), d.isoformat(), f"{day:02d}/{m:02d}/{y}"])
    if not native:
        return r.choice([f"{day} {MONTHS_EN[m - 1]} {y}", f"{MONTHS_EN[m - 1]} {day}, {y}", f"{day:02d}/{m:02d}/{y}",
                         d.isoformat(), f"{day:02d}.{m:02d}.{y}", f"{day} {MONTHS_EN[m - 1][:3]} {y}"])
    forms = {
        "ja_JP": [f"{y}年{m}月{day}日", f"{y}/{m:02d}/{day:02d}"],
        "zh_CN": [f"{y}年{m}月{day}日", f"{y}-{m:02d}-{day:02d}"],
        "ar_SA": [f"{day:02d}/{m:02d}/{y}", f"{day}/{m}/{y}".translate(ARABIC_DIGITS)],
        "ne_NP": [f"{y}-{m:02d}-{day:02d}", f"{y}/{m:02d}/{day:02d}".translate(DEVANAGARI_DIGITS)],
        "si_LK": [f"{y}-{m:02d}-{day:02d}", f"{y}.{m:02d}.{day:02d}"],
        "gu_IN": [f"{day:02d}/{m:02d}/{y}", f"{day:02d}-{m:02d}-{y}"],
        "ro_RO": [f"{day:02d}.{m:02d}.{y}", f"{day} {MONTHS_RO[m - 1]} {y}"],
        "fi_FI": [f"{day}.{m}.{y}", f"{day:02d}.{m:02d}.{y}"],
        "hr_HR": [f"{day}. {m}. {y}.", f"{day:02d}.{m:02d}.{y}."],
        "mk_MK": [f"{day:02d}.{m:02d}.{y}", f"{day}.{m}.{y} г."],
        "es_MX": [f"{day:02d}/{m:02d}/{y}", f"{day} de {MONTHS_ES[m - 1]} de {y}"],
    }
    return r.choice(forms.get(loc, [f"{day:02d}/{m:02d}/{y}", f"{day} {MONTHS_EN[m - 1]} {y}"]))


def passport(r, loc, f):
    """A passport number: Faker's, or the country's letters-and-digits form."""
    forms = {"ja_JP": (["TK", "TR", "MZ", "TZ"], 7), "zh_CN": (["E"], 8), "gu_IN": (list("JKLMNPRSTUVZ"), 7),
             "ig_NG": (["A"], 8), "tw_GH": (["G"], 7), "es_MX": (list("GHJKN"), 8), "ro_RO": (["0"], 7),
             "fi_FI": (["FP"], 7), "si_LK": (["N"], 7)}
    if loc in forms and r.random() < 0.6:
        prefixes, n = forms[loc]
        return r.choice(prefixes) + "".join(str(r.randint(0, 9)) for _ in range(n))
    return f.passport_number()


def context(r, loc, f, latin, native):
    """The unlabelled fields a template may name, from the same locale as its values."""
    native_towns, latin_towns = TOWNS.get(loc, (None, None))
    towns = latin_towns if latin and latin_towns else native_towns
    city = r.choice(towns) if towns else f.city()
    zips = {"tw_GH": lambda: f"{r.choice(['GA', 'AK', 'GT', 'CC'])}-{r.randint(100, 999)}-{r.randint(1000, 9999)}",
            "ig_NG": lambda: f"{r.choice(['400', '410', '420', '460'])}{r.randint(100, 299)}",
            "gu_IN": lambda: f"3{r.randint(60, 96)}{r.randint(0, 99):03d}",
            "mk_MK": lambda: str(r.choice([1000, 6000, 7000, 2400, 1300])),
            "si_LK": lambda: f"{r.randint(0, 90):03d}{r.randint(0, 9)}0",
            "es_MX": lambda: f"{r.randint(1000, 99999):05d}", "ar_SA": lambda: str(r.randint(11000, 34999))}
    day = r.randint(1, 28)
    company = r.choice(COMPANIES[loc]) if loc in COMPANIES else f.company()
    if " " not in company and loc in COMPANY_FORMS:
        # Faker's Romanian, Finnish, Croatian and Macedonian companies are at times a bare surname.
        company += COMPANY_FORMS[loc]
    fields = {
        "city": city, "zip": zips[loc]() if loc in zips else f.postcode(),
        "country": COUNTRY[loc][0 if native else 1],
        "company": company, "area": r.choice(AREAS.get(loc, [city])),
        "region": f.prefecture() if loc == "ja_JP" else f.province() if loc == "zh_CN" else "",
        "district": f"{f.district()}区" if loc == "zh_CN" else "",
        "cur": CURRENCY[loc],
        "date": f"2026-{r.randint(1, 12):02d}-{day:02d}", "date2": f"{day:02d}.{r.randint(1, 12):02d}.2026",
        "time": f"{r.randint(7, 12):02d}:{r.choice(['00', '15', '30', '45'])}",
        "time2": f"{r.randint(13, 17):02d}:{r.choice(['10', '25', '40', '50'])}",
        "order": f"{r.choice(['ORD-', 'SO-', '#', 'A'])}{r.randint(100000, 9999999)}",
        "track": r.choice([f"1Z{r.randint(10 ** 15, 10 ** 16 - 1)}", f"JD{r.randint(10 ** 15, 10 ** 16 - 1)}",
                           f"SF{r.randint(10 ** 11, 10 ** 12 - 1)}", f"LX{r.randint(10 ** 8, 10 ** 9 - 1)}CN"]),
        "inv": f"INV-2026-{r.randint(1, 9999):04d}",
        "n": str(r.randint(10, 9999)), "n2": str(r.randint(2, 60)),
        "amount": f"{r.randint(3, 4800)}.{r.randint(0, 99):02d}",
        "lat": f"{r.uniform(-35, 60):.5f}", "lng": f"{r.uniform(-100, 140):.5f}",
        "ts": f"2026-11-{day:02d}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}Z",
    }
    return fields


# Positive templates in English (any locale). Flags: j = a JSON string holds the value (no raw
# quote in it), c = a comma-separated row (a field with a comma is quoted), u = a unit on the
# street line, U = upper case, i = a date of birth in ISO or numeric form, k = a cue word (label,
# key, column, title or phrase naming the kind) stands before some labelled value.
GENERIC = [
    # Street lines, mostly with nothing naming them.
    ("hey, it's {person}. the courier left my parcel at {address_2} but I live at {address}, can you get it back?", ""),
    ("assistant: Done! Your next three boxes will go to {address}, {city}. Anything else I can help with?", ""),
    ("user: pls cancel the one going to {address_2} and keep the one for {address}", ""),
    ("I'm outside {address} and there's no sign of the driver, been waiting 20 min", ""),
    ("can the technician come to {address} instead? it's the grey door next to the bakery", "u"),
    ('{"name": "maps_search", "arguments": {"query": "{address}, {city}", "limit": 1}}', "j"),
    ('Tool result: {"place_id": "p_{n}", "display": "{address}, {zip} {city}", "lat": {lat}, "lon": {lng}}', "j"),
    ('{"rider": "{person}", "from": "{address}", "to": "{address_2}", "eta_min": {n2}, "surge": 1.2}', "jk"),
    ('[{"seq": 1, "at": "{address}", "window": "{time}-{time2}"}, {"seq": 2, "at": "{address_2}", "window": "{time2}-18:00"}]', "j"),
    ("{ts} WARN delivery-svc attempt=2 failed, nobody home at {address} ({city})", ""),
    ("{ts} INFO route.plan driver={n} stops=[{address} -> {address_2}] dist_km=14.2", ""),
    ("{order};{person};{address};{city};{zip};{amount}", ""),
    ("| customer | where | when |\n|---|---|---|\n| {person} | {address} | {date} {time} |\n| {person_2} | {address_2} | {date} {time2} |", "k"),
    ("- stop: 1\n  at: {address}\n  window: {time}-{time2}\n- stop: 2\n  at: {address_2}\n  window: {time2}-19:00", ""),
    ("Top result: {company} · {address}, {city} · 4.6 (312 reviews) · open until 22:00", ""),
    ("reverse_geocode({lat}, {lng}) -> {address}, {zip} {city}, {country}", ""),
    ("{person}\n{company}\n{address}\n{zip} {city}\n{phone} | {email}", ""),
    ("Subject: Re: key handover\n\nHi {person},\n\nI'll leave the keys with the neighbour at {address_2}, my flat is {address}. Back on the 14th.\n\n{person_2}", "u"),
    ("New booking\n{person}\n{phone}\n{address}\n{city} {zip}\n2 adults, 1 child, late arrival", ""),
    ('{"id": "{order}", "status": "shipped", "ship": {"to": "{person}", "line": "{address}", "city": "{city}"}, "carrier_ref": "{track}"}', "jk"),
    ("Your {company} order {order} arrives today between {time} and {time2} at {address}. Track: https://t.example/{track}", ""),
    ("Moved in last week, the new place is {address}, {area}. Still no internet though", "u"),
    ("We've relocated! From 1 December you'll find our studio at {address}, {city}, first door on the left.", "u"),
    ("Open viewings this Saturday:\n1. {address}, 10:00-11:00\n2. {address_2}, 12:30-13:30", ""),
    ("Thought: the user wants a pharmacy near {address}. I'll call places.nearby with a 500 m radius.", ""),
    ("Observation: 3 results near {address}: {company} (120 m), Central Market (450 m), Bus stop 17 (90 m)", ""),
    ("{person} moved from {address_2} to {address} in October; the lease was signed on {date}.", ""),
    ("The invoice should show {company}, {address}, {zip} {city}, not the old office.", ""),
    ("please leave it with the guard at {address}, tell him it's for {person}", "u"),
    ("{person}\n{address}\n{city} {zip}\n{country}", ""),
    ("Meet at {address} at {time}. Parking on level -2, bay 117, gate code 4471.", ""),
    ("{ts} GET /api/v2/orders/{n}/items 200 31ms dest={address}", "k"),
    ("Your parcel {track} (2.4 kg, 40 x 30 x 20 cm) waits at {company}, {address}; pickup code 7731, open until 20:00", ""),
    # With a cue word.
    ("Ticket #{n} [Open] Missed delivery\nCustomer: {person}\nReported: parcel marked delivered, nothing at {address}, {city}.", "k"),
    ("shipment:\n  id: {order}\n  consignee: {person}\n  deliver_to: {address}\n  town: {city}\n  postcode: '{zip}'", "k"),
    ('{"contact": {"fullName": "{person}", "mobile": "{phone}", "mailing": {"street": "{address}", "city": "{city}", "zip": "{zip}"}}}', "jk"),
    ('level=info msg="label printed" recipient="{person}" ship_to="{address}, {city}" weight_kg=2.4', "jk"),
    ("id,name,street,city,phone\n{n},{person},{address},{city},{phone}", "ck"),
    ("Billing address: {address}, {zip} {city}\nVAT ID: pending\nPayment: bank transfer, 14 days", "k"),
    ("SHIP TO:\n{person}\n{address}\n{zip} {city}\n{country}", "Uk"),
    ("Lead {n} · {person} · {company} · {address} · created {date}", ""),
    # Names, mostly with nothing naming them.
    ("Thanks,\n{person}\n{phone}", ""),
    ("Cheers, {person}", ""),
    ("Hi {person}, your technician {person_2} will phone you about 30 minutes before arriving.", ""),
    ("{person_2} will call you back tomorrow morning on {phone}.", "k"),
    ("I spoke to {person} from accounts, she'll send the credit note by Friday.", ""),
    ("user: can you add {person} and {person_2} to the booking? both vegetarian", ""),
    ("Assigned to {person} · due {date} · 3 subtasks", ""),
    ("{person} approved the refund of {amount} {cur} at {time}.", ""),
    ("Reviewed-by: {person} <{email}>", "k"),
    ("> On {date} at {time}, {person} <{email}> wrote:\n> Can we move the call to Thursday?", ""),
    ('{"assignee": "{person}", "watchers": ["{person_2}"], "status": "in_progress"}', "jk"),
    ("attendee,company,table\n{person},{company},{n2}\n{person_2},{company},{n2}", "ck"),
    ("Dear {person},\n\nThank you for your order {order}. We'll let you know as soon as it ships.", "k"),
    ("Best regards\n\n{person} | Logistics Coordinator\n{company}\nM {phone}\n{email}", "k"),
    ("Minutes {date}: present {person}, {person_2}; apologies from {company}. Next meeting {date2}.", ""),
    ("Receipt 0012-000458321 · till 3 · {date} {time} · served by {person} · total {amount} {cur}", ""),
    ("Driver {person} is on the way in a white Toyota, plate {n}-KX.", "k"),
    ("Mr {person} asked whether the warranty covers water damage.", "k"),
    # Phone numbers.
    ("call me on {phone} if the gate is locked", "k"),
    ("text me when you're close: {phone}", "k"),
    ("sorry, wrong number before, it's {phone}", ""),
    ("{ts} sms.send to={phone} template=otp status=queued", ""),
    ('{"tool": "sms_send", "args": {"to": "{phone}", "body": "Your code is 481 203"}}', "j"),
    ("Hotline for this booking: {phone} (daily 8-20)", "k"),
    ("WhatsApp {phone} for the address, I'll pin it", "k"),
    ("Tel. {phone} · Fax {phone_2}", "k"),
    ("Flight JL 44, seat 12A, ref QX7P2L, lands {time}; the driver will ring from {phone} when he is at door 3", ""),
    ("{person}: {phone}\n{person_2}: {phone_2}", ""),
    ("Order {order} ({amount} {cur}) leaves warehouse 14 on {date}; tracking {track}; questions to {phone}", ""),
    # Dates of birth and passports, always with their cue.
    ('{"patient": {"name": "{person}", "dob": "{dob}", "mrn": "{n}"}}', "jik"),
    ("Booking for {person} (DOB {dob}), passport {passport}, seat 23C", "k"),
    ("user: my date of birth is {dob}, why does the form say I'm under 18?", "k"),
    ("born {dob} in {city}, moved to the capital as a child", "k"),
    ('kyc.verify(name="{person}", birth_date="{dob}", doc_type="passport", doc_no="{passport}")', "jik"),
    ("Applicant: {person}\nDate of birth: {dob}\nNationality: {country}", "k"),
    ("member_id,full_name,dob\n{n},{person},{dob}", "cik"),
    ("it's for my mum, {person}, she was born on {dob}", "k"),
    ("Quote request: driver {person}, DOB {dob}, licence since 2009, no claims", "k"),
    ("Hotel check-in: guest {person}, passport no. {passport}, {country}", "k"),
    ("visa_form passport_number={passport} issuing_country={country} expiry={date}", "k"),
    ("can you double-check my passport number? it's {passport}, not the one on the booking", "k"),
    ("Passenger {person} · Passport {passport} · exp. {date2}", "k"),
]

# Texts in the locale's own language, with the same flags.
NATIVE = {
    "ja_JP": [
        ("お世話になっております。{company}の{person}です。資料は{city}{address}宛にお送りください。", ""),
        ("明日の{time}に{address}の前で待ってます。着いたら{phone}に連絡ください", ""),
        ("〒{zip}\n{region}{city}{address}\n{person} 様", "u"),
        ("会員情報：氏名 {person}／生年月日 {dob}／旅券番号 {passport}", "k"),
    ],
    "zh_CN": [
        ("您好，我的快递一直没到，收件地址是{city}{district}{address}，电话{phone}。", "k"),
        ("明天下午我在{address}门口等你，到了给我打电话。", ""),
        ("{person}，{phone}，{region}{city}{district}{address}", "u"),
        ("旅客信息：{person}，出生日期{dob}，护照号码{passport}", "k"),
    ],
    "ar_SA": [
        ("ممكن توصلون الطلب إلى {address}، {area}، {city}؟ أنا موجود بعد العصر.", ""),
        ("السلام عليكم، أنا {person}، الطلب رقم {order} ما وصل لين الحين.", ""),
        ("مع التحية،\n{person}\n{company}\nجوال: {phone}", "k"),
        ("بيانات المسافر: الاسم {person}، تاريخ الميلاد {dob}، رقم الجواز {passport}", "k"),
    ],
    "ne_NP": [
        ("नमस्ते, मेरो पार्सल {address}, {city} मा पठाइदिनुहोस्।", ""),
        ("{person} ले भोलि बिहान {phone} बाट फोन गर्नुहुन्छ।", ""),
        ("नाम: {person}\nजन्म मिति: {dob}\nराहदानी नं.: {passport}", "k"),
    ],
    "si_LK": [
        ("ආයුබෝවන්, කරුණාකර පාර්සලය {address}, {city} වෙත එවන්න.", ""),
        ("{person} මහතා හෙට උදේ {phone} අංකයෙන් ඔබට කතා කරයි.", ""),
        ("නම: {person}\nඋපන් දිනය: {dob}\nගමන් බලපත්‍ර අංකය: {passport}", "k"),
    ],
    "gu_IN": [
        ("નમસ્તે, મારું પાર્સલ {address}, {city} - {zip} પર મોકલજો.", ""),
        ("{person} તમને કાલે સવારે {phone} પરથી ફોન કરશે.", ""),
        ("નામ: {person}\nજન્મ તારીખ: {dob}\nપાસપોર્ટ નંબર: {passport}", "k"),
    ],
    "tw_GH": [
        ("Mepa wo kyɛw, fa parcel no bra {address}, {area}, {city}.", ""),
        ("Chale the rider should drop it at {address}, {area}. Call me when he reach, {phone}", "k"),
        ("{person} go call you for {phone} tomorrow morning.", ""),
        ("Date of Birth: {dob}\nPassport No.: {passport}\nName: {person}", "k"),
    ],
    "ig_NG": [
        ("Ndewo, biko zitere m ngwongwo a na {address}, {area}, {city}.", ""),
        ("Abeg make the dispatch rider bring am come {address}, {area}, I dey house till 5.", "u"),
        ("Regards,\n{person}\n{company}\n{phone}", ""),
        ("Full name: {person}, date of birth {dob}, international passport no. {passport}", "k"),
    ],
    "ro_RO": [
        ("Bună ziua, vă rog să trimiteți coletul pe {address}, {city}, cod {zip}.", ""),
        ("Cu stimă,\n{person}\n{company}\nTel.: {phone}", "k"),
        ("Subsemnatul {person}, născut la data de {dob}, posesor al pașaportului nr. {passport}", "k"),
    ],
    "fi_FI": [
        ("Hei! Paketti pitäisi toimittaa osoitteeseen {address}, {zip} {city}, mutta seuranta näyttää muuta.", "k"),
        ("Nähdäänkö huomenna klo 10 {address} edessä?", ""),
        ("Ystävällisin terveisin\n{person}\n{company}\n{phone}", ""),
        ("Syntymäaika {dob}, passin numero {passport}", "k"),
    ],
    "hr_HR": [
        ("Pozdrav, paket možete ostaviti na {address}, {zip} {city}, kod susjede.", "u"),
        ("{person} će vas nazvati sutra ujutro s broja {phone}", ""),
        ("Ime i prezime: {person}\nDatum rođenja: {dob}\nBroj putovnice: {passport}", "k"),
    ],
    "mk_MK": [
        ("Здраво, пратката испратете ја на {address}, {city}.", ""),
        ("Поздрав,\n{person}\n{company}\n{phone}", ""),
        ("Роден на {dob}, број на пасош {passport}", "k"),
    ],
    "es_MX": [
        ("Hola, ¿me pueden mandar el pedido a {address}, {area}, {city}? Estoy después de las 6.", ""),
        ("Saludos,\n{person}\n{company}\nCel. {phone}", "k"),
        ("{person} le marcará mañana al {phone} para confirmar la cita.", ""),
        ("Nombre: {person}\nFecha de nacimiento: {dob}\nNo. de pasaporte: {passport}", "k"),
    ],
}

# Texts that hold numbers, names and streets that are none of the kinds.
LOOKALIKES = [
    "Order {order} confirmed: 2 items, total {amount} {cur}, estimated delivery {date}.",
    "Tracking number {track}, last scan {date} {time} at the sorting centre.",
    "Invoice {inv} dated {date2}, amount due {amount} {cur}, reference 2026 1128 0044.",
    "Your verification code is 481 203. It expires in 10 minutes.",
    "Booking reference QX7P2L, flight TK 1722, departs {time} from gate B12, seat 14A.",
    "Build 2026.11.3 (rev 8f3a21c) deployed to eu-west-1 at {time}.",
    "Upgraded numpy 1.26.4 -> 2.1.3 and pandas 2.2.2 -> 2.2.3",
    "coordinates: {lat}, {lng} (accuracy 12 m)",
    "Serial SN-4C1A-77F2-9910, firmware 3.8.12, warranty until 2028-03-31",
    "Postcode {zip} is outside our delivery area for {city}.",
    "Opening hours: Mon-Fri 09:00-18:00, Sat 10:00-14:00",
    "The shop on Oxford Street closes at 21:00 on weekdays.",
    "Take the second left after Ring Road roundabout and follow signs for the airport.",
    "Main Street Coffee now delivers until midnight!",
    "Abbey Road Studios released a remastered box set this year.",
    "Wall Street closed higher; the index gained 1.2 % to 5,982.41.",
    "Sesame Street episode 4021 airs on Sunday at 08:30.",
    "Ben & Jerry's, Tim Hortons and Johnnie Walker are in the sponsor list.",
    "Calvin Klein and Ralph Lauren jackets are 30% off until {date}.",
    "Dr. Martens 1460 boots, size 42, black, 1 in stock",
    "Lot 44: Louis Vuitton Keepall 50, estimate 800-1,200",
    "{company} reported revenue of 41.2 million in Q3 2026, up 8 %.",
    "Ferrari 296 GTB, 830 hp, 0-100 km/h in 2.9 s",
    "Meeting room Ada Lovelace (3rd floor) is booked 14:00-15:30.",
    "The Alan Turing Institute publishes its annual report on {date}.",
    "Tesla Model 3 Long Range, VIN ending 48213, delivered {date}",
    "Room 1207, 12th floor; the lifts are to the left of reception.",
    "Platform 9, coach 11, seats 45-46, departs {time}",
    "Population of {city}: about 1,245,000 (2025 estimate)",
    "Table 12 ordered 2 x Margherita, 1 x Tiramisu, total {amount}",
    "Step 3 of 5: choose a delivery slot between {time} and {time2}",
    "Aisle 12, shelf 4, bin 22, qty 150",
    "GET /api/v1/users/1532/orders/88 returned 404 in 12 ms",
    "ISBN 978-4-06-519981-7, 2nd edition, 384 pages",
    "Price per unit {amount} {cur}, MOQ 500, lead time 21 days",
    "Parcel 3 of 4, weight 2.4 kg, dimensions 40 x 30 x 20 cm",
    "Exchange rate on {date}: 1 EUR = 19.84 MXN = 4.9772 RON",
    "Payment reference 0042 7781 9920 shows a pending transfer of {amount} {cur}.",
    "Ticket #{n} closed as duplicate of #4412",
    "Customer since 2019, 37 orders, lifetime value {amount} {cur}",
    "replicas: 3\nport: 8080\nmemory: 512Mi\ntimeout: 30s",
    "Dock door 14, trailer 5521, ETA {time}",
    "Batch 2026-11-28-03 failed: 214 passed, 3 skipped, 1 error",
    "Fiscal code 2026/0412/AB, tax year 2025",
    "Speed limit on Highway 401 lowered to 80 km/h between exits 370 and 375",
    "Store #2231 at Terminal 2, Gate C, is closed for renovation until {date}.",
    "Download size 1 284 556 bytes, checksum 9f2c 41aa 0be7 13d4",
    "Temperature in {city}: 18 °C, humidity 64 %, wind 12 km/h",
    "Sprint 47 velocity: 38 points; carry-over 5 tickets",
    "Sales by region: North 1,204,330; South 987,112; East 1,002,845",
    "Ward 5, bed 14: discharge planned for {date}",
    "The Victoria line is suspended between Oxford Circus and Brixton.",
    "Please rate your ride with driver #48213 (5 stars max).",
    "Hilton Garden Inn and Marriott Courtyard have rooms from {amount} {cur}.",
    "Ordered: Stanley Quencher 1.2 L, colour Rose Quartz, qty 2",
    "Marie Curie Hospice charity run, 5 km, starts at {time}.",
    "Martin Luther King Jr. Day: offices closed, support replies within 48 h.",
    "Chapter 7: The House on Maple Avenue",
    "Queen Street Mall and King George Square are both in the city centre.",
    "Phone case for Galaxy S24 Ultra, 2 pcs, {amount} {cur}",
    "Version 10.0.19045.5131 installed on {date}",
    "Lat/long 35.6812 139.7671, altitude 40 m",
    "Your meter reading 004512.7 kWh was submitted on {date}.",
    "Reservation for 4 at 19:30, deposit {amount} {cur}, code 7731",
    "Please pay {amount} {cur} to invoice {inv} by {date}; late fee 2 %.",
    "Shipment {order}: 12 pallets, 4,380 kg, customs entry 26MX0041230",
    "We ship to 40 countries from our warehouse in {city}.",
    "Flight LH 1234 arrives at Terminal 2, baggage belt 7, at {time}.",
    "Track 7 - Fifth Avenue Blues (3:42)",
    "uptime 99.982 % over 30 days, p95 latency 212 ms",
    "IMO 9321483, container MSKU 4021883, seal 110 492 7",
    "Lot 240512-A, expiry 11/2027, store below 25 °C",
    "The Nelson Mandela Bay stadium hosts the final on {date}.",
    "Order from Kandy Road Bakery: 12 x fish buns, {amount} {cur}",
    "Paseo de la Reforma is closed for the marathon until 14:00.",
    "Coordinates 6.9271, 79.8612 are in central Colombo.",
    "Version 2.3.11-rc.2 (build 118204) is available for download.",
    "Rate 1 USD = 3.75 SAR; transfer fee 15.00 SAR",
    "PIN code 380015 covers the Satellite area of Ahmedabad.",
    "Room 305, Block C, Hostel 4 is reserved for the workshop.",
    "George Washington Bridge inbound: 25 min delay at the toll plaza.",
]

NATIVE_LOOKALIKES = {
    "ja_JP": ["注文番号 4012-7788-1290 の商品は{date}に発送されました。",
              "銀座通りの店舗は本日20時まで営業しています。",
              "〒{zip} は配送対象外の地域です。",
              "松下電器とトヨタの決算発表は来週の予定です。"],
    "zh_CN": ["订单号 202611280093412，快递单号 {track}，预计{date}送达。",
              "南京路步行街的门店今天营业到晚上十点。",
              "李宁和王老吉的广告都在第三页。"],
    "ar_SA": ["رقم الطلب 7712093 وسيتم التوصيل خلال 3 أيام عمل.",
              "الفرع في طريق الملك فهد يفتح من 9 صباحاً إلى 11 مساءً.",
              "المبلغ الإجمالي {amount} ريال شامل الضريبة."],
    "ne_NP": ["अर्डर नं. ४५२१९ भोलि डेलिभरी हुनेछ।", "दरबारमार्गको पसल आज बन्द छ।",
              "कुल रकम रु. {amount} मात्र।"],
    "si_LK": ["ඇණවුම් අංකය 889104, බෙදාහැරීම {date}.", "ගාලු පාරේ ශාඛාව අද වසා ඇත.",
              "මුළු මුදල රු. {amount}."],
    "gu_IN": ["ઓર્ડર નંબર 771204 કાલે ડિલિવર થશે.", "સી.જી. રોડ પરની દુકાન રવિવારે બંધ રહેશે.",
              "કુલ રકમ ₹{amount}, GSTIN 24AAACR5055K1Z5"],
    "tw_GH": ["Momo transaction ID 41288390172, amount GHS {amount}, {date}",
              "The Accra Mall branch on Spintex Road closes at 9pm.", "Kwame Nkrumah Memorial Park is open daily."],
    "ig_NG": ["Your order 88123409 is ready for pickup at our Ogui Road office.",
              "Transfer of NGN {amount} successful. Ref: 000013261128144512345678",
              "Nnamdi Azikiwe University resumes on {date}."],
    "ro_RO": ["Comanda nr. 4412098 a fost livrată pe {date2}.",
              "Magazinul de pe Calea Victoriei e deschis până la 22:00.",
              "Factura seria AB nr. 0012345, total {amount} lei"],
    "fi_FI": ["Tilausnumero 778120445, toimitus arviolta {date2}.",
              "Stockmannin tavaratalo Aleksanterinkadulla on auki klo 21 asti.",
              "Viitenumero 12345 67890 11, eräpäivä {date2}"],
    "hr_HR": ["Broj narudžbe 2026-118734, isporuka {date2}.", "Dućan na Ilici radi do 20 sati.",
              "Nikola Tesla aerodrom: let OU 651 kasni 40 minuta."],
    "mk_MK": ["Нарачка бр. 558120, достава на {date2}.", "Продавницата на Македонија улица е затворена во недела.",
              "Вкупно {amount} денари, фактура 2026-0412"],
    "es_MX": ["Pedido 4012778812, guía {track}, entrega estimada {date2}.",
              "La sucursal de Paseo de la Reforma abre a las 9:00.",
              "Folio fiscal 6F9A-1C2D-77E0, total ${amount} MXN",
              "Frida Kahlo Museum: boletos agotados para el sábado."],
}

KINDS = ("address", "person", "phone", "dob", "passport", "email")
TARGETS = {"address": 150, "person": 100, "phone": 80, "dob": 40, "passport": 20}


def fill(template, fields):
    """The template with its `{field}`s that `fields` names filled; JSON braces stay as they are."""
    return re.sub(r"\{(\w+)\}", lambda m: fields.get(m.group(1), m.group(0)), template)


def row(split, loc, template, flags, native):
    """One labelled text: its values and unlabelled fields all from `loc`."""
    r = split.rnd
    f = split.fakers[LOCALES.index(loc)]
    latin = not native and loc in ROMANIZED and r.random() < 0.7
    unit = "u" in flags or r.random() < 0.2
    labels = {}
    for key in dict.fromkeys(re.findall(r"\{(\w+)\}", template)):
        kind = key.rsplit("_", 1)[0] if key[-1].isdigit() else key
        if kind not in KINDS:
            continue
        while True:
            if kind == "address":
                val = street(r, loc, f, unit if key == "address" else r.random() < 0.2, latin)
            elif kind == "person":
                val = person(r, loc, f, latin)
            elif kind == "phone":
                val = phone(r, loc, f)
            elif kind == "dob":
                val = dob(r, loc, f, native, "i" in flags)
            elif kind == "passport":
                val = passport(r, loc, f)
            else:
                val = f.free_email()
            # A JSON writer escapes a quote; two values the same would be one finding.
            if ("j" not in flags or '"' not in val) and val not in labels.values():
                break
        labels[key] = val
    for key, val in labels.items():
        # A sentence's full stop merges with a value's closing one ("ap. 14.", "1985.").
        if val.endswith("."):
            template = template.replace("{" + key + "}.", "{" + key + "}")
    fields = context(r, loc, f, latin, native)
    if "U" in flags:
        labels = {k: v.upper() for k, v in labels.items()}
        fields = {k: v.upper() for k, v in fields.items()}
    if "c" in flags:
        for key, val in labels.items():
            if "," in val:
                template = template.replace("{" + key + "}", '"{' + key + '}"')
        fields = {k: f'"{v}"' if "," in v else v for k, v in fields.items()}
    split.add(fill(template, fields), **labels)


def count(split, kind):
    return sum(k == kind for r in split.rows for k, _ in r["find"])


def held_fresh(split):
    """Every template once, then English templates of each kind until its target, then look-alikes."""
    for template, flags in GENERIC:
        row(split, split.pick(LOCALES), template, flags, False)
    for loc, templates in NATIVE.items():
        for template, flags in templates:
            row(split, loc, template, flags, True)
    for kind in ("dob", "passport", "phone", "person", "address"):
        pool = [(t, fl) for t, fl in GENERIC if "{" + kind in t]
        while count(split, kind) < TARGETS[kind]:
            # Templates whose other kinds have reached their targets are left for last.
            short = [(t, fl) for t, fl in pool
                     if all(count(split, k) < n for k, n in TARGETS.items() if k != kind and "{" + k in t)]
            template, flags = split.pick(short or pool)
            row(split, split.pick(LOCALES), template, flags, False)
    for text in LOOKALIKES:
        loc = split.pick(LOCALES)
        split.neg(fill(text, context(split.rnd, loc, split.fakers[LOCALES.index(loc)], loc in ROMANIZED, False)))
    for loc, texts in NATIVE_LOOKALIKES.items():
        for text in texts:
            split.neg(fill(text, context(split.rnd, loc, split.fakers[LOCALES.index(loc)], False, True)))
