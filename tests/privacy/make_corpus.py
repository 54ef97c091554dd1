#!/usr/bin/env python3
"""Writes corpus.tsv: labelled strings for the privacy scanner's precision/recall test.

Each line is `KIND<TAB>TEXT`; KIND is the kind the scanner must report, or `-` for a string that
holds nothing sensitive. Values are synthetic (valid checksums, made-up people); the hand-written
negatives are the look-alikes that trip naive scanners. Run once; the output is committed.
"""
import base64, json, random, string

rnd = random.Random(20261129)
rows = []


def add(kind, text):
    assert "\t" not in text and "\n" not in text, text
    rows.append((kind, text))


def luhn_complete(prefix, length):
    digits = [int(c) for c in prefix]
    while len(digits) < length - 1:
        digits.append(rnd.randrange(10))
    for check in range(10):
        ds = digits + [check]
        total = 0
        for i, d in enumerate(reversed(ds)):
            if i % 2 == 1:
                d *= 2
                d = d - 9 if d > 9 else d
            total += d
        if total % 10 == 0:
            return "".join(map(str, ds))


def iban(country, bban):
    rearranged = bban + country + "00"
    num = int("".join(str(int(c, 36)) for c in rearranged))
    check = 98 - num % 97
    return f"{country}{check:02d}{bban}"


def grouped(s, n=4, sep=" "):
    return sep.join(s[i:i + n] for i in range(0, len(s), n))


def rand(chars, n):
    return "".join(rnd.choice(chars) for _ in range(n))


alnum = string.ascii_letters + string.digits
first = ["ann", "bob", "chloe", "dmitri", "eve", "fatima", "gus", "hiro", "ines", "jamal", "kofi", "lena"]
last = ["smith", "nguyen", "garcia", "muller", "rossi", "tanaka", "okafor", "dubois", "kowalski", "silva"]
domains = ["example.com", "corp.io", "mail.example.co.uk", "uni-bonn.de", "acme.org", "shop.fr", "gmail.com"]
templates = [
    "Please email me at {v} when it ships.",
    "my address is {v}",
    "{v}",
    "Contact: {v}, thanks!",
    "Forwarding to {v} and cc'ing the team.",
    "The customer ({v}) asked for a refund.",
    '{{"to": "{v}", "subject": "Order"}}',
    "user={v}&plan=pro",
]

# E-mail addresses.
for i in range(30):
    f, l, d = rnd.choice(first), rnd.choice(last), rnd.choice(domains)
    v = rnd.choice([f"{f}.{l}@{d}", f"{f}{rnd.randrange(99)}@{d}", f"{f}+orders@{d}", f"{f[0]}_{l}@{d}"])
    add("email", templates[i % len(templates)].format(v=v))

# Phone numbers, international and national formats.
phones = [
    "+1 415 555 2671", "+1-202-555-0143", "(415) 555-2671", "415-555-2671", "+44 20 7946 0958",
    "+44 7700 900123", "020 7946 0958", "+33 1 23 45 67 89", "+33612345678", "01 23 45 67 89",
    "+49 30 1234567", "+49 (0)30 12345678", "030 12345678", "+81-3-1234-5678", "+81 90 1234 5678",
    "+91 98765 43210", "+919876543210", "+61 2 9876 5432", "+34 612 34 56 78", "+39 06 1234 5678",
    "+55 11 91234-5678", "+27 21 123 4567", "+86 138 0013 8000", "+7 495 123-45-67", "+31 20 123 4567",
    "555.123.4567", "+353 1 234 5678", "+46 8 123 456 78", "+48 22 123 45 67", "+1 (646) 555-0199",
]
ptemplates = ["Call me on {v}.", "phone: {v}", "{v}", "You can reach the driver at {v} after 6pm",
              '{{"phone": "{v}"}}', "Mobile {v} (evenings)"]
for i, v in enumerate(phones):
    add("phone", ptemplates[i % len(ptemplates)].format(v=v))

# Payment cards, Luhn-valid, various brands and spacings.
brands = [("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15), ("6011", 16), ("35", 16),
          ("4", 13), ("62", 19)]
ctemplates = ["card {v}", "My card number is {v}, exp 04/29", "{v}", "charge {v} please",
              '{{"card_number": "{v}", "amount": 42}}']
for i in range(25):
    prefix, length = brands[i % len(brands)]
    n = luhn_complete(prefix, length)
    v = rnd.choice([n, grouped(n), grouped(n, 4, "-")]) if length == 16 else n
    add("card", ctemplates[i % len(ctemplates)].format(v=v))

# IBANs with valid checksums.
bbans = [("DE", lambda: rand(string.digits, 18)), ("GB", lambda: "NWBK" + rand(string.digits, 14)),
         ("FR", lambda: rand(string.digits, 10) + rand(string.ascii_uppercase + string.digits, 11) + rand(string.digits, 2)),
         ("ES", lambda: rand(string.digits, 20)), ("IT", lambda: "X" + rand(string.digits, 10) + rand(string.digits, 12)),
         ("NL", lambda: "ABNA" + rand(string.digits, 10)), ("CH", lambda: rand(string.digits, 17)),
         ("BE", lambda: rand(string.digits, 12))]
itemplates = ["IBAN {v}", "Please wire it to {v}.", "{v}", "account: {v}", '{{"iban": "{v}"}}']
for i in range(20):
    c, b = bbans[i % len(bbans)]
    v = iban(c, b())
    add("iban", itemplates[i % len(itemplates)].format(v=grouped(v) if i % 2 else v))

# US social security numbers.
stemplates = ["SSN {v}", "my social is {v}", "{v}", "ssn: {v} dob 1980", '{{"ssn": "{v}"}}']
for i in range(15):
    v = f"{rnd.choice([rnd.randrange(1, 666), rnd.randrange(667, 900)]):03d}-{rnd.randrange(1, 100):02d}-{rnd.randrange(1, 10000):04d}"
    add("ssn", stemplates[i % len(stemplates)].format(v=v))

# IP addresses.
ips = ["192.168.1.23", "10.0.0.7", "172.16.254.1", "8.8.8.8", "203.0.113.45", "198.51.100.7", "81.2.69.160",
       "2001:db8::8a2e:370:7334", "fe80::1ff:fe23:4567:890a", "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
       "100.64.3.9", "45.33.32.156"]
iptemplates = ["login from {v}", "client ip {v}.", "{v}", "blocked {v} after 5 attempts", '{{"ip": "{v}"}}',
               "X-Forwarded-For: {v}"]
for i, v in enumerate(ips):
    add("ip", iptemplates[i % len(iptemplates)].format(v=v))

# Provider keys.
keys = [
    "sk-" + rand(alnum, 48), "sk-proj-" + rand(alnum + "_-", 60), "sk-svcacct-" + rand(alnum, 40),
    "sk-" + rand(alnum, 32), "AKIA" + rand(string.ascii_uppercase + string.digits, 16),
    "ASIA" + rand(string.ascii_uppercase + string.digits, 16), "ghp_" + rand(alnum, 36), "gho_" + rand(alnum, 36),
    "github_pat_" + rand(alnum + "_", 82), "xoxb-" + rand(string.digits, 12) + "-" + rand(string.digits, 12) + "-" + rand(alnum, 24),
    "xoxp-" + rand(string.digits, 11) + "-" + rand(alnum, 20), "AIza" + rand(alnum + "_-", 35),
    "AIza" + rand(alnum, 35), "ghs_" + rand(alnum, 36), "sk-ant-" + rand(alnum, 40),
]
ktemplates = ["here is my key {v}", "{v}", "OPENAI_API_KEY={v}", "export KEY {v}", '{{"key": "{v}"}}',
              "use {v} for the staging account"]
for i, v in enumerate(keys):
    add("api_key", ktemplates[i % len(ktemplates)].format(v=v))


def b64url(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


for i in range(8):
    tok = b64url({"alg": "HS256", "typ": "JWT"}) + "." + b64url({"sub": str(rnd.randrange(10**6)), "name": rnd.choice(first), "iat": 1700000000 + i}) + "." + rand(alnum + "_-", 43)
    add("jwt", ["Authorization header had {v}", "{v}", "token {v}", '{{"id_token": "{v}"}}'][i % 4].format(v=tok))

for i in range(5):
    body = rand(string.ascii_letters + string.digits + "+/", 64)
    kind = ["RSA ", "EC ", "", "OPENSSH ", "ENCRYPTED "][i]
    add("private_key", f"key: -----BEGIN {kind}PRIVATE KEY-----\\n{body}\\n{body[:40]}\\n-----END {kind}PRIVATE KEY-----")

# High-entropy values under credential names.
names = ["password", "passwd", "pwd", "secret", "client_secret", "api_key", "apiKey", "token", "access_token",
         "refresh_token", "X-Auth-Token", "db_password", "SECRET_KEY", "auth_token", "private_key"]
for i, n in enumerate(names):
    v = rand(alnum + "!@#$%^&*", rnd.randrange(12, 40))
    form = [f"{n}={v}", f"{n}: {v}", f'"{n}": "{v}"', f"set {n} = '{v}'", f'{{"{n}": "{v}"}}'][i % 5]
    add("secret", form)
for i in range(5):
    add("secret", f"Authorization: Bearer {rand(alnum + '-_.', 40)}")

# Negatives: ordinary text and the look-alikes.
negatives = [
    "What's the weather in Paris tomorrow?",
    "Sunny and 21C in Paris",
    "Book a table for 4 at 19:30 on 2026-11-21.",
    "The meeting is at 10:30:00 UTC.",
    "Order 12345 shipped on 2024-01-05.",
    "Your order #98765432 is on its way.",
    "Tracking number 1Z999AA10123456784",
    "The total is $1,299.99 including tax.",
    "It costs 12.50 EUR per month.",
    "Use version 1.2.3 of the SDK.",
    "Upgrade to v2.10.4.1 before Friday.",
    "Python 3.11.4 is installed.",
    "Windows build 10.0.19041.1415",
    "gpt-4.1-mini answered in 812 ms",
    "Population: 2,161,000 (2019)",
    "Coordinates 48.8566, 2.3522",
    "Call get_weather with city=Paris",
    "call_tool get_weather city=Paris",
    "transfer_to_weather_expert",
    "The password must be at least 12 characters long.",
    "password: redacted",
    "password: <SECRET_1>",
    "token: ********",
    "api_key = ${OPENAI_API_KEY}",
    "Set OPENAI_API_KEY in your environment.",
    "secret: true",
    "token_count: 1532",
    "max_tokens: 4096",
    "The token limit is 128000.",
    "Reset your password at the login page.",
    "Send it to support at our help centre.",
    "Mention @alice in the channel.",
    "ping me on slack #eng-oncall",
    "user@localhost is the default",
    "Write to <EMAIL_1> about <PHONE_2>.",
    "card 4111 1111 1111 1112 fails Luhn",
    "Reference 1234 5678 9012 3456",
    "Invoice 2024-0001-0042",
    "ISBN 978-3-16-148410-0",
    "The flight leaves at 07:45 from gate 23.",
    "Room 404, floor 3",
    "Zip code 94105",
    "Postcode SW1A 1AA",
    "The score was 3-2 after extra time.",
    "Chapter 12, pages 100-120",
    "Temperature ranged 18-24 C over 3 days.",
    "SSN 000-12-3456 is not valid",
    "The form number is 666-12-3456",
    "Part 900-12-3456 is in stock",
    "GB00 0000 0000 0000 0000 00 is a placeholder",
    "DE89 3704 0044 0532 0130 01 has a wrong checksum",
    "ABCD1234EFGH5678",
    "Timestamp 1700000000123",
    "Duration 00:05:13.200",
    "12:30:45",
    "Mac address? no, just 12:34",
    "Use the :: operator in Rust paths like std::fs::read",
    "C++ uses a::b::c scoping",
    "commit 3f2a9c1d4e5b6a7980c1d2e3f4a5b6c7d8e9f0a1",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "uuid 123e4567-e89b-12d3-a456-426614174000",
    "resp_68e1f0a2b3c4d5e6f7a8b9c0",
    "call_Q3x9Lm2Pz8Rt5Wv1",
    "trace_1a366e09b2c84f6d9e1f2a3b4c5d6e7f",
    "span_b773d5a1c2e3f4a5",
    "https://example.com/docs/getting-started",
    "See https://platform.openai.com/docs/api-reference/responses",
    "file:///home/user/project/README.md",
    "/var/log/nginx/access.log",
    "C:\\Users\\Public\\Documents",
    "The sk- prefix marks secret keys.",
    "sk-short",
    "AKIA is the prefix of AWS access key ids",
    "ghp_ tokens are GitHub personal tokens",
    "xoxb- tokens belong to Slack bots",
    "eyJ is how base64 JSON starts",
    "-----BEGIN CERTIFICATE----- is public",
    "The key is under the mat.",
    "monkey: banana",
    "keyboard layout: AZERTY",
    "secretary: Mrs Hudson",
    "tokenizer: cl100k_base",
    "passwordless login is enabled",
    "1.5 million users in 12 countries",
    "Call 911 in an emergency.",
    "Dial 112 anywhere in the EU.",
    "Extension 4021",
    "Year range 1990-2020",
    "Scores: 98.6, 97.2, 99.1",
    "Latency p50 120ms p95 340ms p99 812ms",
    "IP addresses are not allowed in this field.",
    "localhost:8080",
    "127.0.0.1:4010 is the mock, but only the port matters: 4010",
    "Version string 10.2.3",
    "Matrix 3x3, dims 1024x768",
    "Temperature: 21C, humidity: 65%, wind: 12 km/h",
    "4 adults, 2 children, 1 infant",
    "RÉSULTAT : Sunny",
    "Bonjour, je voudrais réserver une table.",
    "東京の天気はどうですか？",
    "The answer is 42.",
    "Top 10 list, item 7",
    "{\"city\": \"Paris\", \"units\": \"metric\"}",
    "{\"count\": 12345678, \"ok\": true}",
    "{\"password\": \"\"}",
    "{\"token\": null}",
    "{\"api_key\": \"<API_KEY_1>\"}",
    "{\"secret\": \"changeme\"}",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
    "Step 1: open the app. Step 2: tap Settings.",
    "Hand off to the billing agent.",
    "I cannot help with that request.",
    "The refund of 49.99 was issued.",
    "Dates: 01/02/2024 and 2024/02/01",
    "At 2026-11-21T09:30:00Z the job ran.",
    "Elapsed 2026-11-21 09:30:00.123456",
    "Account balance: 10,000.00",
    "Model temperature 0.7, top_p 1.0",
    "Run run_20261121T0930 passed",
    "pass rate 0.95 (19/20)",
    "Bus line 42-B leaves every 15 min",
    "Serial no. SN-2023-445566",
    "SKU 400-1234-56",
    "1 2 3 4 5 6 7 8 9",
    "Hex color #1a2b3c",
    "Base64 aGVsbG8gd29ybGQ=",
    "The word 'email' appears here",
    "e-mail us via the contact form",
    "name@ is incomplete",
    "@example.com alone is a domain",
    "john at example dot com",
    "secret_santa: true",
    "token_type: bearer",
    "Bearer token goes in the header",
    "api_key_name: production",
    "password_hint: first pet",
]
for t in negatives:
    add("-", t)

# Generated negatives: sentences with numbers that are not phones, cards or ids.
cities = ["Paris", "Rome", "Tokyo", "Lagos", "Lima", "Oslo", "Cairo", "Seoul", "Quito", "Perth"]
for i in range(60):
    c = rnd.choice(cities)
    add("-", rnd.choice([
        f"Weather in {c}: {rnd.randrange(-10, 40)}C, wind {rnd.randrange(0, 60)} km/h",
        f"Flight to {c} departs {rnd.randrange(1, 28):02d}/{rnd.randrange(1, 13):02d} at {rnd.randrange(0, 24):02d}:{rnd.randrange(0, 60):02d}",
        f"{c} has {rnd.randrange(1, 900)} hotels with {rnd.randrange(1000, 99999)} rooms",
        f"Order {rnd.randrange(10000, 999999)} for {c} costs {rnd.randrange(1, 999)}.{rnd.randrange(0, 100):02d} USD",
        f"Meeting in {c} on 2026-{rnd.randrange(1, 13):02d}-{rnd.randrange(1, 29):02d} at {rnd.randrange(8, 18)}:00",
        f"{{\"city\": \"{c}\", \"days\": {rnd.randrange(1, 15)}}}",
        f"Version {rnd.randrange(0, 20)}.{rnd.randrange(0, 30)}.{rnd.randrange(0, 100)} fixes {rnd.randrange(2, 50)} bugs",
    ]))

# Numbers that travel with a street address (post codes, house numbers and ranges, coordinates,
# shipment numbers) are no phone; a phone number beside an address still is.
for kind, text in [
    ("address", "Av. Paulista 1578, 01310-200 São Paulo"),
    ("address", "Rua da Prata 123 1100-052 Lisboa"),
    ("address", "ul. Marszałkowska 12/34 00-950 Warszawa"),
    ("address", "Storgatan 123 114 55 Stockholm"),
    ("address", "Prinsengracht 263-267 1016 GV Amsterdam"),
    ("address", "Hauptstraße 12-14 01067 Dresden"),
    ("address", "45 Elm St, Boston, MA 02134-1234"),
    ("-", "CEP 05435-000, São Paulo - SP"),
    ("-", "Pin dropped at 13.7563 100.5018 near the river"),
    ("-", "Shipment 1234 5678 9012 left the depot"),
    ("phone", "Tel. +49 30 1234567, 10115 Berlin"),
    ("phone", "CABA C1043, tel (011) 4567-8901"),
    ("phone", "São Paulo 01304-001, fone (11) 3456-7890"),
    ("phone", "Aarhus office 22 33 44 55 Mondays"),
]:
    add(kind, text)

with open(__file__.rsplit("/", 1)[0] + "/corpus.tsv", "w", encoding="utf-8") as f:
    f.write("# KIND<TAB>TEXT; KIND `-` holds nothing sensitive. Written by make_corpus.py.\n")
    for kind, text in rows:
        f.write(f"{kind}\t{text}\n")
pos = sum(1 for k, _ in rows if k != "-")
print(f"{len(rows)} strings: {pos} positive, {len(rows) - pos} negative")
