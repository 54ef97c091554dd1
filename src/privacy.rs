//! The privacy scanner: finds personal data and secrets in text, replaces each distinct value
//! with a typed, numbered placeholder, and reports findings by kind and location (never values).
//! Given names and street types come from lexicons compiled into the binary; nothing is loaded
//! at run time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use regex::{Regex, RegexSet, SetMatches};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    PrivateKey,
    Jwt,
    ApiKey,
    Secret,
    Email,
    Iban,
    Card,
    Ssn,
    Passport,
    Dob,
    Ip,
    Phone,
    Address,
    Person,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PrivateKey => "private_key",
            Kind::Jwt => "jwt",
            Kind::ApiKey => "api_key",
            Kind::Secret => "secret",
            Kind::Email => "email",
            Kind::Iban => "iban",
            Kind::Card => "card",
            Kind::Ssn => "ssn",
            Kind::Passport => "passport",
            Kind::Dob => "dob",
            Kind::Ip => "ip",
            Kind::Phone => "phone",
            Kind::Address => "address",
            Kind::Person => "person",
        }
    }

    /// The placeholder's name: `EMAIL` in `<EMAIL_1>`.
    pub fn placeholder(self) -> &'static str {
        match self {
            Kind::PrivateKey => "PRIVATE_KEY",
            Kind::Jwt => "JWT",
            Kind::ApiKey => "API_KEY",
            Kind::Secret => "SECRET",
            Kind::Email => "EMAIL",
            Kind::Iban => "IBAN",
            Kind::Card => "CARD",
            Kind::Ssn => "SSN",
            Kind::Passport => "PASSPORT",
            Kind::Dob => "DOB",
            Kind::Ip => "IP",
            Kind::Phone => "PHONE",
            Kind::Address => "ADDRESS",
            Kind::Person => "PERSON",
        }
    }
}

/// One kind of finding at one place in a case, with how many values were replaced there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub kind: Kind,
    pub location: String,
    pub count: usize,
}

/// A match in a text: byte range and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

struct Detector {
    kind: Kind,
    pattern: String,
    /// Compiled on first use: a check of cases that hold no credential never builds the
    /// credential patterns (compiling them all costs as much as scanning thousands of texts).
    regex: OnceLock<Regex>,
    /// The capture group holding the sensitive value (0 = whole match).
    group: usize,
    valid: fn(&str) -> bool,
    /// What the text around the value must (not) be, for rules a regex without look-around
    /// cannot say: `(text, start, end)`.
    around: fn(&str, usize, usize) -> bool,
}

/// Names under which a value is a credential: `api_key`, `client_secret`, `X-Auth-Token`,
/// `ENCRYPTION_KEY`, `AccountKey`, `clientSecret`, `CLIENTSECRET`, `secretKey`, `authKey`, ...
/// A long credential word may have any prefix glued on; a short one (`key`) only after a
/// separator or as the capitalized end of a camelCase name.
const SECRET_NAME: &str = r"[A-Za-z0-9_-]*(?:api[_-]?key|apikey|access[_-]?key|private[_-]?key|secret[_-]?key|secret|token|credentials?|accountkey|sharedaccesskey)|(?:[A-Za-z0-9]+[_-])+key|[a-z][a-z0-9]*(?-i:Key)";
/// Names under which any value that is not a filler is a password, however weak: also glued
/// or camelCase (`PGPASSWORD`, `dbPassword`, `userPwd`) and the word in other languages.
const PASSWORD_NAME: &str = r"[A-Za-z0-9_-]*(?:password|passwd|passphrase)|(?:[A-Za-z0-9]+[_-])*(?:pwd|pass)|[a-z][a-z0-9]*(?-i:Pwd|Pass)|passwort|mot de passe";
/// The password words of other languages without `pass` in them, for the cheap test before
/// the secret patterns run.
const PASSWORD_WORDS: &str =
    "kennwort|contraseña|senha|wachtwoord|lösenord|adgangskode|salasana|hasło|heslo|parola|jelszó|şifre|пароль";
/// The characters of an unquoted credential value in `name = value` text.
const SECRET_VALUE: &str = r#"[A-Za-z0-9_\-+/=.!@#$%^&*~?:]"#;
/// What joins a credential's name to its value: `=`, `:`, `=>`, `is`, an XML tag's `>`.
const SECRET_SEP: &str = r#"(?:["']?\s*(?:[:=]>?|=>)|>|\s+(?:is|was|ist|est|es)\b)\s*"#;

const MONTHS: &str = "january|february|march|april|may|june|july|august|september|october|november|december|\
    januar|februar|märz|juni|juli|oktober|dezember|janvier|février|mars|avril|mai|juin|juillet|août|septembre|\
    octobre|novembre|décembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|\
    diciembre|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|\
    januari|maret|mei|agustus|desember|ocak|şubat|mart|nisan|mayıs|haziran|temmuz|ağustos|eylül|ekim|kasım|aralık|\
    января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря|\
    січня|лютого|березня|квітня|травня|червня|липня|серпня|вересня|жовтня|листопада|грудня|\
    stycznia|lutego|marca|kwietnia|maja|czerwca|lipca|sierpnia|września|października|listopada|grudnia|\
    ledna|února|března|dubna|května|června|července|srpna|září|října|listopadu|prosince|\
    ianuarie|februarie|martie|aprilie|iunie|iulie|septembrie|octombrie|noiembrie|decembrie|\
    január|február|március|április|május|június|július|augusztus|szeptember|október|\
    tammikuuta|helmikuuta|maaliskuuta|huhtikuuta|toukokuuta|kesäkuuta|heinäkuuta|elokuuta|syyskuuta|lokakuuta|\
    marraskuuta|joulukuuta|ιανουαρίου|φεβρουαρίου|μαρτίου|απριλίου|μαΐου|ιουνίου|ιουλίου|αυγούστου|σεπτεμβρίου|\
    οκτωβρίου|νοεμβρίου|δεκεμβρίου|machi|aprili|julai|agosti|septemba|oktoba|novemba|desemba|\
    fevereiro|março|maio|junho|julho|setembro|outubro|novembro|dezembro|gennaio|febbraio|aprile|maggio|giugno|\
    luglio|settembre|ottobre|dicembre|maart|augustus|oktober|\
    มกราคม|กุมภาพันธ์|มีนาคม|เมษายน|พฤษภาคม|มิถุนายน|กรกฎาคม|สิงหาคม|กันยายน|ตุลาคม|พฤศจิกายน|ธันวาคม";

/// Words for a passport (`Reisepass`, `паспорт`, `جواز السفر`, `护照`, `여권`, ...), by their start:
/// the letters after one are part of it (`Reisepassnummer`, `паспорта`, `paspoortnummer`).
const PASSPORT_WORDS: &str = "passport|passeport|pasaporte|passaporto|passaporte|reisepass|pasp|paszport|pasaport|paşaport|\
    pașaport|pasipoti|phasipoti|passin\\b|passinumero|cestovní pas|číslo pasu|útlevél|διαβατ|паспорт|загранпаспорт|\
    جواز (?:ال)?سفر|گذرنامه|پاسپورت|דרכון|पासपोर्ट|राहदानी|પાસપોર્ટ|পাসপোর্ট|கடவுச்சீட்டு|பாஸ்போர்ட்|ගමන් බලපත්\u{200d}ර|\
    หนังสือเดินทาง|พาสปอร์ต|hộ chiếu|ìwé ìrìnnà|akwantu krataa|旅券|パスポート|护照|護照|여권";

/// Words that say "number" between a passport word and its value (`Passport No.`, `паспорт №`,
/// `جواز السفر رقم`, `護照號碼`).
const NUMBER_WORDS: &str = "number|numéro|nummer|numero|número|numer|numarası|num|nro|no|nr|n°|nº|is|#|č|číslo|száma|\
    αριθμός|αρ|رقم|شماره|מספר|מס|नंबर|संख्या|क्रमांक|नम्बर|નંબર|নম্বর|எண்|අංකය|หมายเลข|เลขที่|số|nomor|namba|\
    nambari|nɔma|inombolo|番号|号码|號碼|号|번호";

/// Words before a date of birth (`DOB`, `geboren am`, `生年月日`, `дата рождения`, `ngày sinh`, ...).
const BIRTH_WORDS: &str = "born(?:\\s+on)?|d\\.?o\\.?b|date[\\s_]?of[\\s_]?birth|birth[\\s_-]?date|birthday|geboren(?:\\s+(?:am|op))?|\
    geburtsdatum|n[ée]e?\\s+le|date\\s+de\\s+naissance|fecha\\s+de\\s+nacimiento|data\\s+di\\s+nascita|\
    data\\s+de\\s+nascimento|nascid[oa]\\s+em|nat[oa]\\s+il|geboortedatum|生年月日|誕生日|出生日期|出生年月日|生日|생년월일|생일|\
    تاريخ الميلاد|تاريخ الولادة|تاریخ تولد|תאריך לידה|जन्म ?तिथि|जन्मतारीख|जन्म दिनांक|जन्म मिति|જન્મ તારીખ|জন্ম ?তারিখ|\
    பிறந்த தேதி|උපන් දිනය|วันเกิด|เกิดวันที่|ngày sinh|sinh ngày|tanggal lahir|tgl\\.? lahir|lahir pada|doğum tarihi|\
    дата рождения|родил(?:ся|ась)|дата народження|народи(?:вся|лася)|data urodzenia|urodzon[yae]|datum narození|\
    narozen[aá]?|data nașterii|născut(?:ă)? la|születési dátum|született|szül\\.|syntymäaika|syntynyt|\
    ημερομηνία γέννησης|γεννήθηκε|tarehe ya kuzaliwa|alizaliwa|ọjọ́ ìbí|ụbọchị ọmụmụ|awoda|da a wɔwoo no|\
    usuku lokuzalwa|wazalwa";

fn detectors() -> &'static [Detector] {
    static D: OnceLock<Vec<Detector>> = OnceLock::new();
    D.get_or_init(|| {
        let d = |kind, pattern: &str, group, valid: fn(&str) -> bool| Detector {
            kind,
            pattern: pattern.to_string(),
            regex: OnceLock::new(),
            group,
            valid,
            around: |_, _, _| true,
        };
        let any = |_: &str| true;
        let date = format!(
            r"\d{{4}}年\d{{1,2}}月\d{{1,2}}日|\d{{4}}년 ?\d{{1,2}}월 ?\d{{1,2}}일|ngày \d{{1,2}} tháng \d{{1,2}} năm \d{{4}}|\d{{4}}\. (?i:{MONTHS}) \d{{1,2}}\.|\d{{4}}\. ?\d{{1,2}}\. ?\d{{1,2}}\.?|\d{{1,2}}\. \d{{1,2}}\. \d{{4}}|\d{{1,2}} de (?i:{MONTHS}) de \d{{4}}|\d{{1,2}} (?i:{MONTHS}) \d{{4}} г\.|\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}|\d{{1,2}}[-/.]\d{{1,2}}[-/.](?:\d{{4}}|\d{{2}})|(?i:{MONTHS})\.?\s\d{{1,2}}(?:st|nd|rd|th)?,?\s\d{{4}}|\d{{1,2}}(?:st|nd|rd|th)?\.?\s(?i:{MONTHS})\.?,?\s\d{{4}}"
        );
        let streets = street_patterns();
        // Earlier detectors win where matches overlap: a key inside a JWT is the JWT.
        vec![
            d(Kind::PrivateKey, r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----", 0, any),
            d(Kind::Jwt, r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}", 0, any),
            d(
                Kind::ApiKey,
                concat!(
                    r"\bsk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,}",
                    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
                    r"|\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}|\bglpat-[A-Za-z0-9_-]{20,}",
                    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{20,}",
                    r"|\bAIza[0-9A-Za-z_-]{35}",
                    r"|\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|\bwhsec_[A-Za-z0-9]{24,}",
                    r"|\bhf_[A-Za-z0-9]{30,}\b|\bnpm_[A-Za-z0-9]{36}\b|\bkey-[0-9a-f]{32}\b|\b(?:SK|AC)[0-9a-f]{32}\b",
                    r"|\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}",
                ),
                0,
                not_placeholder,
            ),
            // A quoted value is whole up to its closing quote, whatever it holds.
            d(
                Kind::Secret,
                &format!(
                    r#"(?i)\b(?:{PASSWORD_NAME}|{PASSWORD_WORDS})\b(?:{SECRET_SEP}|(?-i:\s+))(?:"([^"\n]{{6,200}})"|'([^'\n]{{6,200}})'|({SECRET_VALUE}{{6,}}))"#
                ),
                1,
                not_filler,
            ),
            d(
                Kind::Secret,
                &format!(
                    r#"(?i)\b(?:{SECRET_NAME})\b(?:{SECRET_SEP}|\s+)(?:"([^"\n]{{8,200}})"|'([^'\n]{{8,200}})'|({SECRET_VALUE}{{8,}}))|\bbearer\s+([A-Za-z0-9_\-+/=.~]{{16,}})|\bbasic\s+([A-Za-z0-9+/]{{8,}}={{0,2}})"#
                ),
                1,
                |v| not_filler(v) && credential_like(v),
            ),
            // `Authorization: <scheme> <credential>`, whatever the scheme.
            d(
                Kind::Secret,
                &format!(r#"(?i)\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:[A-Za-z]+\s+)?({SECRET_VALUE}{{6,}})"#),
                1,
                not_filler,
            ),
            // user:password@ in a URL (the user may be empty); the user name stays, the password goes.
            d(Kind::Secret, r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,15}://[^\s:/@]{0,64}:([^\s/@]{3,128})@", 1, not_filler),
            d(
                Kind::Email,
                r"[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}\b",
                0,
                // `git@github.com:org/repo` is a remote, not a mailbox.
                |v| !v.starts_with("git@"),
            ),
            d(Kind::Iban, r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b", 0, iban),
            d(Kind::Card, r"\b\d(?:[ -]?\d){12,18}\b", 0, card),
            d(Kind::Ssn, r"\b\d{3}-\d{2}-\d{4}\b", 0, ssn),
            // Without dashes nine digits are anything; with the word they are an SSN.
            d(
                Kind::Ssn,
                r"(?i)\b(?:ssn|social[\s_-]?security(?:[\s_-]?(?:number|no\.?|nr))?|social)\b[^0-9\n]{0,30}?(\d{3}[ .]?\d{2}[ .]?\d{4})\b",
                1,
                ssn,
            ),
            d(
                Kind::Passport,
                &format!(r"(?i)(?:{PASSPORT_WORDS})[\p{{L}}\p{{M}}_]*(?:[^\p{{L}}\d\n]{{1,6}}(?:{NUMBER_WORDS})\.?){{0,2}}[^\p{{L}}\d\n]{{1,6}}((?-i:[A-Z0-9]{{6,10}})|\d{{2}} \d{{7}})\b"),
                1,
                |v| v.bytes().any(|b| b.is_ascii_digit()),
            ),
            d(
                Kind::Dob,
                &format!(
                    r#"(?i:\b(?:{BIRTH_WORDS}))[\s"':=,.()：-]{{0,6}}(?:is\s+)?({date})"#
                ),
                1,
                any,
            ),
            Detector {
                around: ipv4_context,
                ..d(Kind::Ip, r"(?:\d{1,3}\.){3}\d{1,3}", 0, ipv4)
            },
            d(Kind::Ip, r"(?:^|[^\w:])((?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4})", 1, ipv6),
            Detector {
                around: phone_context,
                ..d(
                    Kind::Phone,
                    concat!(
                        r"(?:\+\d{1,3}[ .-]?|\(\+\d{1,3}\)[ .-]?|\b00\d{1,3}[ .-]?|\b1[ .-]|\b8 \(\d{3,5}\) ?)?(?:\(\d{1,5}\)[ ./-]?)?\d{2,12}(?:[ ./-]\d{1,8}){0,5}\b",
                        r"|\+\d[\d ().-]{6,22}\d|\(\d{1,5}\)[ .-]?\d{2,5}(?:[ .-]?\d{2,8}){0,4}\b|\b0\d{8,11}\b",
                    ),
                    0,
                    phone,
                )
            },
            // A number without groups is a phone number when it is called one, not when another
            // name is nearer (`Numéro client : 71 718 812 95`).
            Detector {
                around: |text, start, _| !named_otherwise(text, start),
                ..d(
                Kind::Phone,
                r"(?i:\b(?:phone|tel|telephone|mobile|cell|call(?: me)?|number is|reach \w+(?: \w+)? at|sms|text|nummer|numéro|whatsapp|fax|ring|dial)\b)[^\d\n]{0,24}?(\+?\d[\d .-]{6,16}\d)\b",
                1,
                // `number is 666-12-3456` has an SSN's shape, valid or not.
                |v| !(v.len() == 11 && v.as_bytes()[3] == b'-' && v.as_bytes()[6] == b'-'),
            )
            },
            // A level with no comma or house number after it is a place inside a building
            // (`Level 2 Car Park`), unlike `Level 3, 12 Pitt Street`.
            d(Kind::Address, &streets.unit_first, 0, |v| {
                let level = v.get(..5).is_some_and(|w| w.eq_ignore_ascii_case("level"));
                let house = v.split_whitespace().nth(2).is_some_and(|w| w.starts_with(|c: char| c.is_ascii_digit()));
                not_stopped_place(v) && (!level || v.contains(',') || house)
            }),
            d(Kind::Address, &streets.house_first, 0, not_stopped_place),
            Detector { around: not_counted, ..d(Kind::Address, &streets.number_then_type, 0, not_stopped_place) },
            // `638 kg Questions`, `Bus 42 via Central Station`: a unit or `via` after a number, in
            // lowercase, is no street type.
            Detector {
                around: not_counted,
                ..d(Kind::Address, &streets.number_first, 0, |v| {
                    let second = v.split_whitespace().nth(1).unwrap_or_default();
                    not_stopped_place(v) && !(lexicon_has(MEASURES, second) || second == "via")
                })
            },
            // A lowercase type after a number is a word of the sentence (`Bus 42 via Central Station`).
            Detector {
                around: |text, start, end| {
                    let numbered = text[..start].strip_suffix(' ').is_some_and(|t| t.ends_with(|c: char| c.is_ascii_digit()));
                    not_a_count(text, start, end) && !(numbered && text[start..].starts_with(char::is_lowercase))
                },
                ..d(Kind::Address, &streets.type_first, 0, |v| not_stopped_place(v) && !counted_number(v))
            },
            Detector { around: not_a_count, ..d(Kind::Address, &streets.compound, 0, not_stopped_place) },
            d(Kind::Address, r"\b\p{Lu}\p{Ll}{2,}(?: \p{Lu}\p{Ll}+)? \d{1,4}/\d{1,4}[a-zA-Z]?\b", 0, not_stopped_place),
            // A name and a house number with a letter (`Kožarska 2a`, `Jabukovac 7a/2`): not a counted
            // or numbered thing (`Figure 3a`, `Article 5b`).
            d(Kind::Address, r"\b\p{Lu}\p{Ll}{3,}(?:[ -]\p{Lu}\p{Ll}+)? \d{1,4}[a-z](?:/\d{1,4})?\b", 0, |v| {
                not_stopped_place(v) && !lexicon_has(COUNTED, &v.split([' ', '-']).next().unwrap_or_default().to_lowercase())
            }),
            // Slavic streets named by an adjective or a genitive, in Latin and Cyrillic letters
            // (`Máchova 28`, `Plzeňská 70`, `Plachého 5`, `Školní 3`, `Vukovarska 12`, `Садовая 5`).
            Detector {
                around: not_counting,
                ..d(
                    Kind::Address,
                    r"\b\p{Lu}\p{Ll}{2,}(?:ova|ová|eva|ská|ska|ška|čka|cka|cká|ého|ní|ná|ская|ска|ова|ева|ая|ого)\s\d{1,4}(?:/\d{1,4})?[a-z]?\b",
                    0,
                    not_stopped_place,
                )
            },
            // Greek streets named in the genitive (`Πάτμου 31`, `Κύμης 10-10`).
            d(Kind::Address, r"\b(?:\p{Greek}{3,}[\s-])?\p{Greek}{3,}(?:ου|ού|ης|ής|ας|άς|ων|ών)\s\d{1,4}(?:-\d{1,4})?\b", 0, any),
            // The grid numbers of Colombian streets: the street, then `#` or `No.` and the cross street and
            // the distance (`Calle 45 # 12-34`, `Cra. 7 No. 71-21`, `Cl. 32 Bis # 20-64`).
            d(
                Kind::Address,
                r"\b(?i:calle|cl|cll|carrera|cra|kr|kra|transversal|tv|diagonal|dg|avenida|av|ak|ac)\.?\s\d{1,3}\s?[A-Z]?(?:\s?Bis)?\s?(?:#|(?i:no|n°|nº)\.?)\s?\d{1,3}\s?[A-Z]?\s?-\s?\d{1,3}\b",
                0,
                any,
            ),
            // Thai: the type is written glued to the name (`99 หมู่ 5 ถนนมิตรภาพ`, `12/3 ซอยสุขุมวิท 11`).
            d(
                Kind::Address,
                r"\b\d{1,4}(?:/\d{1,4})?\s(?:หมู่(?:ที่)?\s?\d{1,3}\s)?(?:ถนน|ซอย|ถ\.|ซ\.)\s?\p{Thai}+(?:\s\d{1,3}\b)?",
                0,
                any,
            ),
            // A Philippine block and lot, the subdivision, then the street (`B04 L78 Mariveles
            // Subdivision Phase 9, Tabayoc Drive`).
            d(Kind::Address, r"\bB\d{1,3}\sL\d{1,3}(?:\s[\p{Lu}\d][\p{L}\d'.-]*){1,6},(?:\s\p{Lu}[\p{L}'.-]*){1,4}", 0, any),
            // A house and a road numbered (`House 12, Road 5`, `H# 4, Rd No. 7`, `বাড়ি ১২, রোড ৫`).
            d(
                Kind::Address,
                r"\b(?i:house|h|বাড়ি|বাসা)\s?(?i:no\.?\s?|#|নং\s?)?\d{1,4}[A-Z]?,\s?(?i:road|rd|lane|sector|রোড|সড়ক|লেন)\.?\s?(?i:no\.?\s?|#|নং\s?)?\d{1,3}[A-Z]?\b",
                0,
                any,
            ),
            // Chinese and Japanese streets: a road, its section, lane and alley, then the number
            // (`芝山巷4段56號`, `人民路128号`); a block's district, block and house (`丸の内1丁目2番3号`,
            // `西新宿2-8-1`).
            d(
                Kind::Address,
                r"[[\p{Han}\p{Hiragana}\p{Katakana}ー]--[はがをにへで到在于至往寄送]]{1,12}(?:(?:大道|大街|路|街|巷|弄|道|胡同|里)(?:\d{1,3}段)?(?:\d{1,4}[巷弄])*\d{1,5}[號号座栋棟幢](?:之\d{1,3})?(?:\d{1,3}[樓楼层])?|\d{1,2}丁目\d{1,3}(?:番地?|-)\d{1,3}(?:号|-\d{1,3})?|\d{1,2}-\d{1,3}-\d{1,3}\b)",
                0,
                any,
            ),
            // Armenian streets named in the genitive (`Կռիլովի 5`, `Անրի Վեռնոյի 4`).
            d(Kind::Address, r"\b(?:\p{Armenian}{2,}\s)?\p{Armenian}{2,}ի\s\d{1,4}[a-z]?\b", 0, any),
            d(Kind::Address, r"\b(?:P\.?\s?O\.?\s?Box|Postfach|Apartado|Casilla|Boîte postale)\s\d{1,6}\b", 0, any),
        ]
    })
}

/// Any word an address pattern needs: a street type, a unit, an address cue, a post box, or the
/// `12/3` of Central European house numbers.
fn address_words() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        let words = |tag: &str| {
            STREET_TYPES.lines().find_map(|l| l.strip_prefix(tag)).expect("street type lexicon").split_whitespace()
        };
        let whole: Vec<String> =
            words("before:").chain(words("after:")).chain(words("middle:")).flat_map(letter_forms).collect();
        let suffix: Vec<String> = words("suffix:").flat_map(letter_forms).collect();
        let cues = "address|addr|street|line1|line_1|adresse|lieferadresse|anschrift|direcci[oó]n|indirizzo|\
                    endere[cç]o|morada|adres|adress|live|living|resides|moved|wohnhaft|office|deliver|bill|ship|\
                    flat|studio|apt|unit|suite|level|lot|shop|block|house|holding|building|plot|box|postfach|apartado|\
                    casilla|postale";
        // `_` before a cue: `shipping_address=`, `billing_street=`.
        Regex::new(&format!(
            r"(?i)(?:\b[בלמהוש]?|_)(?:{}|{cues})s?\b|(?:{})\b|\d/\d|\p{{Ll}}\s\d{{1,4}}[a-z]\b|(?:ova|ová|eva|ská|ska|ška|čka|cka|cká|ého|ní|ná|ская|ска|ова|ева|ая|ого|ου|ού|ης|ής|ας|άς|ων|ών|ի)\s\d|\b(?:cra|kr|kra|cl|cll|tv|dg|ak|ac)\.?\s\d|\bC/\s|\b[RC]\.\s\p{{Lu}}|নং|नं|رقم|شماره|[路街巷弄道段目]\d|\d(?:號|号|番|座|栋|棟|幢)|\p{{Han}}\d{{1,2}}-\d|ถนน|ซอย|\bB\d{{1,3}}\sL\d",
            whole.join("|"),
            suffix.join("|")
        ))
        .expect("built-in pattern")
    })
}

/// The address patterns, built from the street-type lexicon.
struct StreetPatterns {
    /// `12 Baker Street`, `12 rue de la Paix`.
    number_first: String,
    /// `Via Roma 10`, `ul. Długa 5`, `boulevard Odette Blanc 66`.
    type_first: String,
    /// `Hauptstraße 5`, `Berliner Straße 12`, `Storgatan 6`.
    compound: String,
    /// `Flat 3, Natasha Oval`, `Block 25 Lot 49 Leo Street`.
    unit_first: String,
    /// `House No. 81, NasirKhali`: a numbered house, then its street or quarter.
    house_first: String,
    /// `9-9, Jln Dato' Maharaja Lela 5`, `No. 8, Jalan 26`: the number, a comma, then a type first.
    number_then_type: String,
}

fn street_patterns() -> StreetPatterns {
    let list = |tag: &str| -> String {
        let line = STREET_TYPES.lines().find_map(|l| l.strip_prefix(tag)).expect("street type lexicon");
        let mut words: Vec<String> = line.split_whitespace().flat_map(letter_forms).collect();
        words.dedup();
        // Longest first, so `st` does not stop `street` short.
        words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        words.join("|")
    };
    let (before, after, suffix, middle) = (list("before:"), list("after:"), list("suffix:"), list("middle:"));
    // Capitalized, or in a script without capitals (`송`, `გორი`, `ขอนแก่น`).
    let word = r"[\p{Lu}\p{Lo}\p{Georgian}][\p{L}\p{M}'.-]*";
    let particles = r"(?:de|la|le|les|du|des|del|della|dei|di|da|do|dos|das|der|den|van|von|y|e|wa|ya|of|the)";
    // Articles glued to a name: French and Italian `d'`, `l'`, Maltese `il-`, `tal-`, Arabic `al-`.
    let words = format!(r"(?:\s+(?:{particles}\s+)*(?:d'|l'|il-|l-|ta'|tal-|al-|el-)?{word}){{1,4}}");
    // A flat, floor or door after the house number, in the languages of the street types.
    let unit = r"(?:\s*,?\s+(?i:bl|sc|ap|et|apt|apartment|suite|ste|unit|flat|floor|appartamento|piano|interno|scala|piso|puerta|interior|int|depto|departamento|apto|apartamento|andar|sala|bloco|casa|lote|edif|edificio|étage|etage|wohnung|top|stiege|lgh|bus|app|block|blk|rd|kv|кв|стр|корп|к|оф)\.?\s?(?:#?\d{1,5}[A-Za-z]?(?:/\d{1,4})?|[A-Z]\b)|\s*,?\s+\d{1,3}(?:st|nd|rd|th)\s(?i:floor|fl)\b|\s*,?\s+\d{1,2}[º°ª](?:\s?[A-Z]\b)?){0,3}";
    // `Prinsengracht 177-II`, `Herengracht 577-hs`: a Dutch floor after the number.
    let number = r"(?:(?i:n°|nº|nr|no|д|буд|дом|پلاک|رقم|বাড়ি|मकान|مبنى|عمارة|منزل|فيلا|بناية)[.:]?\s?)?\d{1,4}(?:[-–/]\d{1,4}[a-zA-Z]?|/[A-Za-z]\b)?(?:[a-zA-Z]\b| [A-Z]\b)?(?:-(?:I{1,3}|hs|bis|[A-Z])\b)?(?: \d{1,4}\b)?";
    // `, Galaxy Grove`: the estate or quarter after a street.
    let quarter = format!(r"(?:,\s(?:{word}\s){{1,3}}(?i:{before})s?\b)?");
    let units = "flat|studio|apartment|apt|unit|suite|level|lot|shop|block|blk|bldg";
    StreetPatterns {
        // `#45, 2nd Main Road`, `12 bis, rue …`: a `#` before the number or `bis` after it, an ordinal
        // in the name; on one line.
        number_first: format!(
            r"(?:#|\b)\d{{1,5}}[A-Za-z]?(?:[-–/](?:\d{{1,4}}|[A-Za-z]\b))?(?:\s(?:bis|ter))?,?(?:(?:[ \t](?:{word}|\d{{1,3}}(?:st|nd|rd|th)\b)){{1,4}}[ \t](?i:{before})s?\b\.?{unit}{quarter}|\s(?i:{after})\b\.?{words}(?:\s\d{{1,5}}\b)?{unit})"
        ),
        // A lowercase word may end the name (`провулок Ветеранів праці, буд. 190`), an ordinal too
        // (`площа Пересипська 8-ма буд. 477`), an alley of the street may follow it (`خیابان عزیزی،
        // کوچه حمیدی، پلاک 84`); `R.` and `C.` are Portuguese and Spanish for `Rua`, `Calle`.
        type_first: format!(
            r"(?:\b[בלמהוש]?(?i:{after})\b|\bC/|\b[RC]\.)\.?(?:{words}(?:\s\p{{Ll}}+)?(?:[,،]\s(?:کوچه|كوچه|کوی|بن‌بست)\b{words})?(?:\s\d{{1,3}}-\p{{Ll}}{{1,3}})?|\s\d{{1,4}}(?:\s[A-Z]\b)?)[,،]?\s(?:{number}|[sS]/[nN])\b\.?{unit}"
        ),
        compound: format!(
            r"(?:\b\p{{Lu}}(?:[\p{{L}}\p{{M}}-]|\.-){{2,}}?|[\p{{Lo}}\p{{Georgian}}][\p{{L}}\p{{M}}-]*?)(?:(?i:{suffix})|(?:[ ][\p{{Lu}}\p{{Lo}}\p{{Georgian}}][\p{{L}}\p{{M}}]*)?[ -](?i:{suffix}|{middle}))\.?,?[ \t]{number}\b\.?{unit}"
        ),
        unit_first: format!(
            r"\b(?:(?i:{units})\.?\s\d{{1,5}}[A-Za-z]?,?\s){{1,3}}(?:\d{{1,5}}[A-Za-z]?\s)?{word}(?:\s{word}){{0,3}}\s(?i:{before})s?\b{quarter}"
        ),
        house_first: format!(
            r"\b(?:(?i:{units})\.?\s\d{{1,5}}[A-Za-z]?,\s)?(?:(?i:house|holding|building|plot|door|bldg|বাড়ি|বাড়ী|বাসা|হোল্ডিং|বিল্ডিং|প্লট|মকান|मकान|भवन|प्लॉट|مکان|منزل|مبنى|عمارة|ساختمان)\s?(?i:no|nr|#|নং|नं|नंबर|رقم|شماره|نمبر)\.?\s?|(?:مبنى|عمارة|منزل|فيلا|بناية|شقة|ساختمان)\s(?:رقم\s?)?)\d{{1,5}}[A-Za-z]?(?:[-/]\d{{1,4}})?[,،](?:\s{word}){{1,3}}"
        ),
        number_then_type: format!(
            r"\b(?:(?i:no)\.?\s)?(?:[A-Z]-?)?\d{{1,5}}(?:[-/]\d{{1,4}}){{0,2}}[A-Za-z]?,\s(?i:{after})\b\.?(?:{words}(?:\s\d{{1,4}}(?:/\d{{1,4}})?[A-Za-z]{{0,2}}\b)?|\s\d{{1,4}}(?:/\d{{1,4}})?[A-Za-z]{{0,2}}\b){unit}"
        ),
    }
}

const FIRST_NAMES: &str = include_str!("privacy/first_names.txt");
const CASELESS_WORDS: &str = include_str!("privacy/caseless_words.txt");
const STREET_TYPES: &str = include_str!("privacy/street_types.txt");

/// Capitalized words that are never part of a name or a street name here: greetings, days,
/// months, roles, and words that start sentences.
const STOP_WORDS: &str = "hello hi hey dear thanks thank regards best cheers sir madam customer support team \
    service sales order account ticket invoice booking the this that these your our my his her their its a an \
    monday tuesday wednesday thursday friday saturday sunday january february march july september october \
    november december please note update record user agent system assistant admin \
    guest passenger holder owner contact name country total status error warning info \
    unknown none not provided withheld pending same confidential";

/// Words that start place names (`North Road`, `Santa Cruz`): never a name, but part of a street's.
const PLACE_WORDS: &str = "grande nova novo velha velho alto alta santo santa são san saint sankt neu nord sud süd \
    north south east west norte sul sur oeste leste este new old sveti";

/// Given names that are also common capitalized words: a name only after a cue ("Dear Will").
const AMBIGUOUS_FIRST: &str = "may june april august will bill mark grace joy per pol bo art guy rose ray dawn";

/// Company forms that make the words before them a company, not a person.
const COMPANY: &str = "gmbh ag kg inc ltd llc plc sa sas sarl srl spa bv nv ab oy oyj osk ky tmi as co corp corporation limited \
    industries holdings manufacturing group grupa gruppe bank doo jdoo dd \
    บริษัท จำกัด ห้างหุ้นส่วนสามัญ ห้างหุ้นส่วนจำกัด 주식회사 유한회사 합자회사 합명회사 (주) (유)";

fn lexicon(text: &'static str) -> HashSet<&'static str> {
    text.lines().filter(|l| !l.starts_with('#')).flat_map(str::split_whitespace).collect()
}

fn first_names() -> &'static HashSet<&'static str> {
    static S: OnceLock<HashSet<&'static str>> = OnceLock::new();
    S.get_or_init(|| lexicon(FIRST_NAMES))
}

fn stop_words() -> &'static HashSet<&'static str> {
    static S: OnceLock<HashSet<&'static str>> = OnceLock::new();
    S.get_or_init(|| lexicon(STOP_WORDS).into_iter().chain(lexicon(PLACE_WORDS)).collect())
}

fn stopped(word: &str) -> bool {
    stop_words().contains(word.to_lowercase().trim_end_matches('.'))
}

/// No word of the value is a stop word (`Dear Monday` is no name).
fn not_stopped(v: &str) -> bool {
    !words(v).any(stopped)
}

/// No word of the value is a stop word other than a place word (`place Monday 5` is no
/// address, `266 North Road` is).
fn not_stopped_place(v: &str) -> bool {
    !words(v).any(|w| stopped(w) && !lexicon_has(PLACE_WORDS, &w.to_lowercase()))
}

/// The words of a value, without their punctuation.
fn words(v: &str) -> impl Iterator<Item = &str> {
    v.split_whitespace()
        .map(|w| w.trim_matches(|c: char| c.is_ascii_punctuation()))
        .filter(|w| !w.is_empty() && w.chars().all(char::is_alphabetic))
}

/// A capitalized name word (`Anna`, `Jean-Luc`, `O'Brien`), and the run of them after a first one.
/// Combining marks count as letters (Yoruba `Adébáyọ̀`).
const NAME_WORD: &str = r"\p{Lu}\p{M}*[\p{Ll}\p{M}]+(?:(?:[-'’]\p{Lu}?|\p{Lu})\p{M}*[\p{Ll}\p{M}]+)*\b";

/// Name cues of more languages before a capitalized name: honorifics, `my name is`, letters'
/// greetings and closings (`Sayın`, `Bwana`, `меня зовут`, `Kính gửi`, `С уважением,`).
const NAME_CUES: &str = "kính gửi|ông|bà|anh|chị|tên tôi là|trân trọng|bapak|bpk|nama saya|hormat saya|sayın|adım|\
    benim adım|saygılarımla|господин|госпожа|меня зовут|уважаемый|уважаемая|с уважением|пан|пані|мене звати|шановний|\
    шановна|з повагою|pan|pani|paní|nazywam się|pozdrawiam|jmenuji se|s pozdravem|domnul|doamna|mă numesc|cu stimă|\
    tisztelt|a nevem|üdvözlettel|herra|rouva|nimeni on|ystävällisin terveisin|κύριος|κυρία|κύριε|με λένε|με εκτίμηση|\
    bwana|jina langu ni|wako mwaminifu|ọ̀gbẹ́ni|arábìnrin|orúkọ mi ni|maazị|oriakụ|aha m bụ|owura|awuraa|me din de|\
    mnu|nkk|igama lami ngu|prezado|prezada|meu nome é|atenciosamente|sig\\.ra|sig|gentile|mi chiamo|cordiali saluti|\
    meneer|mevrouw|geachte|mijn naam is|met vriendelijke groet";

/// Honorifics before a name in scripts without capitals (`السيد`, `آقای`, `श्री`, `জনাব`, `คุณ`).
const CASELESS_CUES: &str = "السيد|السيدة|الأستاذ|الاستاذ|الدكتور|آقای|خانم|جناب|מר|גברת|לכבוד|श्रीमती|सुश्री|श्री|\
    શ્રીમતી|શ્રી|জনাব|শ্রীমতী|শ্রী|திருமதி|திரு|คุณ|นางสาว|นาย|นาง";

/// A name word of a script without capitals (`ომარ`, `אבישג`, `محمد`).
const CASELESS_NAME: &str = r"[\p{Lo}\p{Georgian}][\p{L}\p{M}]*";

fn name_regexes() -> &'static (Regex, Regex, Regex, Regex) {
    static R: OnceLock<(Regex, Regex, Regex, Regex)> = OnceLock::new();
    R.get_or_init(|| {
        // Name words are apart by spaces: a tab separates the cells of a row.
        let particles = format!("(?:{})", PARTICLES.replace(' ', "|"));
        let rest = format!(r"^(?: +(?:{particles} +)*{NAME_WORD}){{1,2}}");
        let cue = &format!(r#"(?i:\b(?:my name is|name is|i'm|i’m|i am|this is|dear|mr|mrs|ms|miss|mx|dr|prof|herr|frau|mme|madame|monsieur|sr|sra|señor|señora|signor|signora|regards|best|cheers|thanks|thank you|signed(?: by)?|sincerely|under|kyc|name|full[_ ]?name|(?:customer|passenger|guest|holder|owner|contact|patient|employee|recipient|sender|caller|user)(?:[_ ]?(?:name|person))?|attn|{NAME_CUES})\b\.?|\b(?-i:Bi|Bayan|Ibu)\b\.?)[\s"':=,-]*"#);
        (
            Regex::new(NAME_WORD).expect("built-in pattern"),
            Regex::new(&rest).expect("built-in pattern"),
            Regex::new(&format!("{cue}({NAME_WORD}(?: +(?:{particles} +)*{NAME_WORD}){{1,2}})"))
                .expect("built-in pattern"),
            // Where no capital marks a name, only a name's own key cues it (`guest=ომარ ლეჟავა`).
            Regex::new(&format!(
                r#"(?i:\b(?:name|full[_ ]?name|guest|passenger|recipient|sender|holder|contact|patient|customer[_ ]?name|attn|dear|mr|mrs|ms|hi|hello|regards|sincerely|{CASELESS_CUES})\b\.?)[\s"':=,>-]*({CASELESS_NAME}(?: {CASELESS_NAME}){{1,2}}|\p{{Hangul}}{{2,4}}\b)"#
            ))
            .expect("built-in pattern"),
        )
    })
}

/// Names that an honorific follows or a phrase after them cues: Chinese and Japanese (`王伟先生`,
/// `山本花子様`, or after `尊敬的`), Korean (`김민수 님`, `이서준 고객님`), other scripts without
/// capitals (`සුනිල් පෙරේරා මහතා`, `राजेश कुमार जी`), and `Anna Nowak will call you`.
fn name_after_regexes() -> &'static [Regex; 4] {
    static R: OnceLock<[Regex; 4]> = OnceLock::new();
    R.get_or_init(|| {
        let han = r"[\p{Han}\p{Hiragana}\p{Katakana}]";
        [
            // The name starts where the script's run does, or after a greeting's `的`.
            Regex::new(&format!(
                r"(?:尊敬的|親愛的|亲爱的)(\p{{Han}}{{2,3}}?)(?:先生|女士|小姐|[^\p{{Han}}]|$)|(?:^|[^\p{{Han}}\p{{Hiragana}}\p{{Katakana}}])(\p{{Han}}{{2,4}}?)(?:様|さま|さん|先生|女士|小姐|殿|氏)(?:{han}|$|[^{han}])"
            ))
            .expect("built-in pattern"),
            Regex::new(r"(?:^|[^\p{Hangul}])(\p{Hangul}{2,4}?) ?(?:고객님|선생님|님|씨|귀하)").expect("built-in pattern"),
            Regex::new(&format!(
                r"(?:^|[\s,:;(])({CASELESS_NAME} {CASELESS_NAME}) (?:මහතා|මහත්මිය|මෙනවිය|जी|ज्यू)(?:[\s,.!?।]|$)"
            ))
            .expect("built-in pattern"),
            Regex::new(&format!(
                r"({NAME_WORD}(?: +{NAME_WORD}){{1,2}}) (?:will (?:call|contact|email|text|ring) you|will be in touch|will reach out)"
            ))
            .expect("built-in pattern"),
        ]
    })
}

/// Words an honorific may follow that name a role, not a person (`担当者様`, `고객님`, `先生/女士`).
const ROLES: &str = "先生 女士 小姐 客户 用户 会员 各位 老师 担当 担当者 会員 利用者 管理者 患者 皆 客 고객 회원 사용자 담당자 여러분 관리자 선생";

/// People: a known given name followed by a surname, or any two or three name words after a
/// cue (`my name is`, `Dear`, `Mr`, `name:`). Not when a word is a stop word, a street type
/// follows (`Victoria Street`), or a company form does (`Fabian Humer GmbH`).
fn people(text: &str, out: &mut Vec<Match>) {
    let (word, rest, cued, cued_caseless) = name_regexes();
    let person = |start: usize, end: usize| -> Option<Match> {
        let value = &text[start..end];
        let next: Option<String> = text[end..]
            .split_whitespace()
            .next()
            .map(|w| w.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase());
        let company = next.as_deref().is_some_and(|w| lexicon_has(COMPANY, w))
            || value.split_whitespace().any(|w| lexicon_has(COMPANY, &w.to_lowercase()));
        // `Victoria Street`, and a header like `Street Address`.
        let street = next.as_deref().is_some_and(street_type)
            || value.split_whitespace().next().is_some_and(|w| street_type(&w.to_lowercase()));
        let place = value.split_whitespace().any(|w| lexicon_has(NOT_PERSON, &w.to_lowercase()));
        // `An` after the first word is a Vietnamese given name (`Nguyễn Văn An`), not the article.
        let stopped_word = words(value).enumerate().any(|(i, w)| stopped(w) && (i == 0 || w != "An"));
        (!stopped_word && !company && !street && !place).then_some(Match { kind: Kind::Person, start, end })
    };
    for caps in cued.captures_iter(text) {
        let m = caps.get(1).expect("the name group");
        out.extend(person(m.start(), m.end()));
    }
    if !text.is_ascii() {
        for caps in cued_caseless.captures_iter(text) {
            let m = caps.get(1).expect("the name group");
            if !m.as_str().split(' ').any(function_word) && (m.as_str().contains(' ') || korean_name(m.as_str())) {
                out.extend(person(m.start(), m.end()));
            }
        }
    }
    let [han, hangul, caseless_after, will_call] = name_after_regexes();
    if text.contains(" will ") {
        for caps in will_call.captures_iter(text) {
            let m = caps.get(1).expect("the name group");
            out.extend(person(m.start(), m.end()));
        }
    }
    if !text.is_ascii() {
        for caps in han.captures_iter(text).chain(hangul.captures_iter(text)).chain(caseless_after.captures_iter(text))
        {
            let Some(m) = caps.iter().skip(1).flatten().next() else { continue };
            let hangul = m.as_str().starts_with(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c));
            if !lexicon_has(ROLES, m.as_str()) && (!hangul || korean_name(m.as_str())) {
                out.extend(person(m.start(), m.end()));
            }
        }
    }
    for m in word.find_iter(text) {
        // Most capitalized words start a sentence or name a thing: a name goes on with a
        // capitalized word or a particle (`van`, `de`), checked before anything costlier.
        let next = text[m.end()..].strip_prefix([' ', '\t']).unwrap_or_default();
        let particle = || PARTICLES.split(' ').any(|p| next.strip_prefix(p).is_some_and(|r| r.starts_with(' ')));
        if !next.starts_with(char::is_uppercase) && !particle() {
            continue;
        }
        // `da Luz de Jesus`, `rue Anne Rey`: a place named after someone.
        let before = text[..m.start()].split_whitespace().next_back().unwrap_or_default();
        if lexicon_has(PLACE_BEFORE, &before.trim_matches(|c: char| c.is_ascii_punctuation()).to_lowercase()) {
            continue;
        }
        let Some(r) = rest.find(&text[m.end()..]) else { continue };
        let end = m.end() + r.end();
        let lower = m.as_str().to_lowercase();
        let known = first_names().contains(lower.as_str()) && !lexicon_has(AMBIGUOUS_FIRST, &lower);
        let last = text[m.end()..end].split_whitespace().next_back().unwrap_or_default();
        // `Ashley Ville`, `Steven End`: a place named after someone, without a cue.
        if text[m.end()..end].split_whitespace().any(|w| street_type(&w.to_lowercase())) {
            continue;
        }
        if known || surname_shaped(last) {
            out.extend(person(m.start(), end));
        }
    }
}

/// Cues after which a whole field is an address: a key (`Address:`, `billing_street=`,
/// `"addr": "…"`, `адрес:`, `anwani`, `ঠিকানা`, `آدرس`, `पता:`), or a phrase (`ship to`, `lives at`,
/// `my address is`).
const ADDRESS_CUE: &str = r"(?i)(?:\b|_)(?:(?:address[ _]?line[ _]?\d|address_?\d|addr[ _]?line[ _]?\d|addr_?\d|street_?\d|street_?address|strasse|straße|location|dest(?:ination)?|pick_?up|drop_?off|venue|residence|premises|home|(?:home |street |postal |mailing |billing |shipping |delivery )?address(?:es)?(?: is| should be| will be| was| to be)?|addr|street|line_?1|adresse|lieferadresse|anschrift|direcci[oó]n|domicilio|indirizzo|endere[cç]o|morada|adres|adresa|adress|aadress|osoite|адрес|адреса|adresas|adrese|adresi|adresă|adressa|naslov|cím|διεύθυνση|διευθυνση|հասցե|მისამართი|địa chỉ|alamat|manzil|manzili|ünvan|unvan|ulica|כתובת|住所|地址|주소|lives? at|living at|resides? at|moved to|(?:left|dropped|delivered|parked|waiting|staying|stuck|standing) (?:it |them |the \w+ )?(?:at|outside|near|in front of)|(?:drop|dropped) (?:it |them |me |us )?off (?:at|to)|now at|(?:i'm|i am|we're|we are|he's|she's|they're) (?:outside|near|in front of|opposite)|meet (?:me|us|you) (?:outside|in front of)|returned to sender|redeliver(?:ed)? to|(?:sent|mailed|posted|forwarded) (?:it |them )?to|pick(?:ed)? (?:it |them )?up (?:from|at)|pickup (?:from|at)|drop-?off (?:at|to)|moving (?:from|to)|moved from|wohnhaft in|office is at|deliver(?:ed)? to|bill to|ship(?: it)? to|send (?:it|them|the \w+) to|(?:i'm|i am|we're|we are) (?:now )?at|meet (?:me|us) at|pick (?:me|us) up (?:from|at)|located at|find us at|visit us at|(?:wohne|wohnt|wohnen)(?: jetzt| noch)? in(?: der)?|habit(?:e|es|ons|ent) (?:au|à|rue)|viv(?:o|e|imos) en|mieszka(?:m|my)? (?:przy|na)|abit(?:o|a|iamo) in|woon(?:t|en)? (?:op|aan)|bor (?:på|i)|живу на|живёт на|живет на|bydlím na|bydlí na|tinggal di|mi direcci[oó]n es|meine adresse ist|mon adresse est|o meu endere[cç]o [ée]|anwani(?: yangu(?: ni)?)?|tirahan(?: ko ay)?|adirẹsi|ठेगाना|ঠিকানা|முகவரி|آدرس|نشانی|العنوان|ที่อยู่)\b|(?:पता|عنوان)\s?:)[\s\x22':=,>\]*.-]{0,12}";

/// Lowercase words of the sentence around an address that end it (`… 12 Baker Street in May`).
const FIELD_END: &str = "in on at to and or before after last next since for by from with please thanks thank today \
    tomorrow tonight yesterday is was until then this that now asap soon instead because but so if when where which who as";

/// Unit words that may follow a street after a comma (`, kv. 12`, `, piso 2`, `, étage 3`).
const UNIT_WORDS: &str = "apt apartment suite ste unit flat floor fl app appt block blk bldg top wohnung stiege piso puerta \
    depto dpto apto andar étage etage esc interno int scala piano kv кв корп стр оф lgh bus rd po house no nr буд д дом \
    rm room level lvl door planta stock og daire kat";

fn address_cue() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(ADDRESS_CUE).expect("built-in pattern"))
}

/// The field after an address cue, up to what ends it: the end of the line or of a quoted or
/// bracketed value, `;`, a full stop, a lowercase word of the sentence around it (`in May`), or a
/// comma before a word that does not go on with the address (`, thanks`). It is an address when
/// it holds a street type, or a house number among words that are all a name's, a particle's or
/// a unit's (`lives at Opletalova 3`; `We ship to 40 countries` is none), and no stop word
/// (`Address: Ticket 4521` is none); one that starts with a lowercase word other than a type
/// needs both a street type and a number (`address the 3 issues` is none). `street` is a cue only as a key (`street: …`,
/// not `Street Fighter 2`). A name at the start of the field followed by a comma is the
/// addressee, not the address (`Ship to Ann Lee, 12 Baker Street`).
fn cued_addresses(text: &str, names: &[Match], out: &mut Vec<Match>) {
    // The markup between a label and its value: an HTML form's `value="`, the next cell of a
    // definition list or table (`</dt><dd>`, ` | `).
    static MARKUP: OnceLock<Regex> = OnceLock::new();
    let markup = MARKUP.get_or_init(|| {
        Regex::new(r#"^(?:"?\s*value=["']|\s*</\w+>\s*<\w+[^>]*>|\s*\|\s*)"#).expect("built-in pattern")
    });
    for cue in address_cue().find_iter(text) {
        let keyed = cue.as_str().contains([':', '=', '"', '>', '\n']);
        let said = cue.as_str().trim_end_matches(|c: char| !c.is_alphabetic()).to_lowercase();
        // A key only: `street: …`, `"location": "…"`, not `Street Fighter 2` or `in that location 5 times`.
        let key_only = [
            "street",
            "ulica",
            "location",
            "dest",
            "destination",
            "strasse",
            "straße",
            "pickup",
            "pick_up",
            "dropoff",
            "drop_off",
            "venue",
            "residence",
            "premises",
            "home",
        ];
        // A line break after `Street` is a key's only on a line of its own (not `12 Baker Street`).
        let own_line = text[..cue.start()].ends_with('\n') || cue.start() == 0;
        let mut key = cue.as_str().contains([':', '=', '"', '>', ']']) || keyed && own_line;
        let (mut start, mut jumped) = (cue.end(), false);
        if let Some(m) = markup.find(&text[start..]) {
            start += m.end();
            key = true;
        }
        // A label that goes on to its colon (`New address for account 51466: …`, `Residential
        // address (as on the ID card): …`): the field is after the colon.
        let line_rest = &text[start..text[start..].find('\n').map_or(text.len(), |n| start + n)];
        if !key
            && let Some(colon) = line_rest.find(": ")
            && colon <= 48
            && !line_rest[..colon].contains(['.', '!', '?', '"'])
        {
            start += colon + 2;
            key = true;
            jumped = true;
        }
        if key_only.iter().any(|k| said.ends_with(k)) && !key {
            continue;
        }
        if let Some(name) = names.iter().find(|n| n.start == start)
            && let Some(rest) = text[name.end..].strip_prefix(", ")
        {
            start = text.len() - rest.len();
        } else if let Some(name) = addressee_name().find(&text[start..])
            && field_end(text, start + name.end()).is_some_and(|e| {
                text[start + name.end()..e]
                    .split_whitespace()
                    .enumerate()
                    .any(|(i, w)| street_word(w.trim_end_matches([',', '.']), i == 0))
            })
            && not_stopped(name.as_str().trim_end_matches([',', ' ']))
            && !name
                .as_str()
                .split([' ', ','])
                .any(|w| street_word(w, false) || lexicon_has(COMPANY, &w.to_lowercase()))
        {
            // `delivered to Santino Torres, Diagonal J.B. Alberdi N° 268`: a name no lexicon knows,
            // before a typed street in the field, is the addressee.
            let len = name.as_str().trim_end_matches([',', ' ']).len();
            out.push(Match { kind: Kind::Person, start, end: start + len });
            start += name.end();
        }
        let Some(end) = field_end(text, start) else { continue };
        let v = &text[start..end];
        let digit = v.chars().any(|c| c.is_ascii_digit() || !c.is_ascii() && c.is_numeric());
        // A type that follows the street's name does not start it (`Gate 12` is none).
        let typed = v.split_whitespace().enumerate().any(|(i, w)| street_word(w.trim_end_matches([',', '.']), i == 0));
        let first = v.split_whitespace().next().unwrap_or_default().trim_end_matches([',', '.']).to_lowercase();
        let lower_start = v.starts_with(|c: char| c.is_ascii_lowercase()) && !type_first(&first);
        let word = v.split(|c: char| !c.is_alphabetic()).any(|w| w.chars().count() >= 2);
        // Under a key, two name words are a street even with no number or type (`Address line 1:
        // पोखरेल कुना`), but a unit alone (`Address line 2: Apartment 14`) is none.
        // Not a name on a line of its own (`Ship to\nAna Souza\n…`): the addressee.
        let addressee = names.iter().any(|n| n.start <= start && n.end >= end);
        let labelled = cue.as_str().contains([':', '=', '"', '>', ']']) || jumped;
        // A venue, a destination or a home is often a named place (`"venue": "Acme and Sons"`), and a
        // name on the line under `SHIP TO:` with more lines after it is the addressee.
        let place_key = key_only.iter().any(|k| said.ends_with(k))
            && !["street", "ulica", "strasse", "straße"].iter().any(|k| said.ends_with(k));
        let own_line = text[cue.start()..start].contains('\n') && text[end..].starts_with('\n');
        let name_words = v.split_whitespace().filter(|w| w.chars().any(char::is_alphabetic)).count() >= 2
            && named(v)
            && labelled
            && !addressee
            && !place_key
            && !own_line;
        let unit_only = v.split(',').all(|part| {
            let part: Vec<&str> = part.split_whitespace().collect();
            part.len() <= 2
                && part.first().is_some_and(|w| lexicon_has(UNIT_WORDS, &w.trim_end_matches('.').to_lowercase()))
        });
        // After a cue, no number of a counted thing (`waiting at Gate 12`, `Deliver to Gate 12`).
        let counted = !typed && lexicon_has(COUNTED, &first);
        let shaped = !counted
            && if typed { digit || !lower_start } else { !lower_start && named(v) && (digit || key && name_words) };
        if word && shaped && !unit_only && !v.contains('@') && not_stopped_place(v) {
            out.push(Match { kind: Kind::Address, start, end });
        }
    }
}

/// Two or three name words and a comma at the start of an address field (see `cued_addresses`).
fn addressee_name() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(&format!("^{NAME_WORD}(?: {NAME_WORD}){{1,2}}, ")).expect("built-in pattern"))
}

/// The value starts or ends with a house number (`Kožarska 2a`, `12 Marsh Lane`, `Bakkestubben
/// 77H, app. 12`), not a model's or a version's number (`Galaxy S24`, `v2.1`).
fn house_numbered(v: &str) -> bool {
    let number = |w: &str| {
        let w = w.trim_matches([',', '.', ';']);
        let digits = w.chars().take_while(char::is_ascii_digit).count();
        (1..=5).contains(&digits)
            && w[digits..].chars().all(|c| c.is_ascii_alphabetic() || c == '/' || c == '-' || c.is_ascii_digit())
            && w[digits..].chars().filter(char::is_ascii_alphabetic).count() <= 1
            // `2x Cappuccino`: a quantity.
            && !w[digits..].starts_with(['x', 'X'])
    };
    // `Mon-Fri 9-17`: opening hours.
    let days = "mon tue wed thu fri sat sun";
    if v.split(|c: char| !c.is_alphabetic()).any(|w| lexicon_has(days, &w.to_lowercase())) {
        return false;
    }
    let first_part = v.split(',').next().unwrap_or_default();
    let tokens: Vec<&str> = first_part.split_whitespace().collect();
    tokens.len() >= 2
        && (number(tokens[0]) || number(tokens[tokens.len() - 1]))
        && !lexicon_has(COUNTED, &tokens[0].to_lowercase())
}

/// Every word of the value is capitalized (or in a script without capitals), a particle or a
/// unit word (`Opletalova 3`, `Paseo Monney, 67-17, 3º B`; not `the 3 issues`).
fn named(v: &str) -> bool {
    let lower = |w: &str| w.starts_with(|c: char| c.is_lowercase() && !('\u{10D0}'..='\u{10FF}').contains(&c));
    let minor =
        |w: &str| lexicon_has(PARTICLES, w) || lexicon_has(UNIT_WORDS, &w.to_lowercase()) || street_word(w, false);
    words(v).all(|w| !lower(w) || minor(w))
}

/// A post code and a town on the line under a street are not a street, though the town's name
/// may end in a street type (`3533 Dapdap Drive` over `9746 Katie Ville`).
fn post_code_lines(text: &str, kept: &mut Vec<Match>) {
    static R: OnceLock<Regex> = OnceLock::new();
    let line = R.get_or_init(|| Regex::new(r"^\d{4,6}(?:\s\p{Lu}[\p{L}'-]*){1,3}$").expect("built-in pattern"));
    let mut drop = Vec::new();
    for (i, m) in kept.iter().enumerate().skip(1) {
        let after = text[m.end..].trim_start_matches([' ', '\t']);
        let own_line = text[..m.start].trim_end_matches([' ', '\t']).ends_with('\n')
            && (after.is_empty() || after.starts_with(['\n', '\r']));
        let above = kept[i - 1];
        let street_above = above.kind == Kind::Address && text[above.end..m.start].matches('\n').count() == 1;
        if m.kind == Kind::Address && own_line && street_above && line.is_match(&text[m.start..m.end]) {
            drop.push(i);
        }
    }
    for i in drop.into_iter().rev() {
        kept.remove(i);
    }
}

/// A word of a section of the caseless-script lexicon (`ends:` or `counts:`).
fn caseless_word_in(section: usize, word: &str) -> bool {
    static S: OnceLock<[HashSet<&'static str>; 2]> = OnceLock::new();
    S.get_or_init(|| {
        let mut sets = [HashSet::new(), HashSet::new()];
        let mut on = None;
        for line in CASELESS_WORDS.lines().filter(|l| !l.starts_with('#')) {
            // A section starts with its name and a colon; its lines that follow are indented.
            let body = match line.split_once(':').filter(|_| !line.starts_with(' ')) {
                Some((head, body)) => {
                    on = ["ends", "counts"].iter().position(|t| *t == head);
                    body
                }
                None => line,
            };
            if let Some(i) = on {
                sets[i].extend(body.split_whitespace());
            }
        }
        sets
    })[section]
        .contains(word)
}

/// A postposition, particle, pronoun or adverb around a place (`पर`, `இல்`, `در`).
fn function_word(word: &str) -> bool {
    caseless_word_in(0, word)
}

/// A word that makes the number before it a count, a time or a date (`दिन`, `مرداد`).
fn count_word(word: &str) -> bool {
    caseless_word_in(1, word)
}

/// Streets named by a house number and names only, in scripts without capitals, where no
/// capital tells a name from a word (`91/300 सावित्री पवार पर हूँ`, `3448 இசைக்கலை ஆஞ்சனேயா இல்`,
/// `27751 محمد پور دره هستم`): up to four words after the number, ending before a postposition or
/// particle; not a count, a time or a date (`3 दिन में`, `۱۴ مرداد`). A one-digit number needs
/// two words. Also Korean roads and Hebrew streets, whose name comes before the number.
fn caseless_streets(text: &str, out: &mut Vec<Match>) {
    static R: OnceLock<Regex> = OnceLock::new();
    let street = R.get_or_init(|| {
        let letters = r"[\p{Devanagari}\p{Bengali}\p{Tamil}\p{Telugu}\p{Kannada}\p{Malayalam}\p{Gujarati}\p{Gurmukhi}\p{Oriya}\p{Sinhala}\p{Arabic}\p{Hebrew}\p{Ethiopic}\u{200c}\u{200d}]";
        Regex::new(&format!(r#"(?:^|[\s(\[>"'|,;])(\d{{1,5}}(?:[-/]\d{{1,5}})?)((?:[ \t]{letters}+){{1,4}})"#))
            .expect("built-in pattern")
    });
    for caps in street.captures_iter(text) {
        let (number, names) = (caps.get(1).expect("the number"), caps.get(2).expect("the names"));
        let mut end = number.end();
        let (mut count, mut at) = (0, names.start());
        for w in names.as_str().split([' ', '\t']) {
            let bare = w.trim_matches(|c: char| !c.is_alphanumeric());
            if !w.is_empty() {
                if count_word(bare) {
                    count = 0;
                    break;
                }
                if function_word(bare) || bare.is_empty() {
                    break;
                }
                end = at + w.len();
                count += 1;
            }
            at += w.len() + 1;
        }
        // A number of one or two digits counts things (`3 सेब`, `2 כרטיסים`) unless a unit follows
        // the name (`3 तारा सिंह, Unit 11B`).
        let digits = number.as_str().chars().filter(|c| c.is_numeric()).count();
        let paired = number.as_str().contains(['/', '-']);
        let unit_after = text[end..]
            .trim_start_matches([',', ' '])
            .split([' ', '.'])
            .next()
            .is_some_and(|w| !w.is_empty() && lexicon_has(UNIT_WORDS, &w.to_lowercase()));
        if count >= 1 && (paired || digits >= 3 || unit_after) {
            out.push(Match { kind: Kind::Address, start: number.start(), end });
        }
    }
    // Korean roads: a name that may hold a number, `로`, `길` or `거리`, then the building's number,
    // perhaps underground (`오금498로 256-28`, `서초중앙거리 524`, `선릉738로 지하347`).
    static KO: OnceLock<Regex> = OnceLock::new();
    let korean = KO.get_or_init(|| {
        Regex::new(r"\p{Hangul}[\p{Hangul}\d]*(?:로|길|거리)\s(?:지하\s?)?\d{1,5}(?:-\d{1,5})?\b")
            .expect("built-in pattern")
    });
    if text.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)) {
        out.extend(korean.find_iter(text).map(|m| Match { kind: Kind::Address, start: m.start(), end: m.end() }));
    }
    // Hebrew streets are written name first, often with no type (`לוריא 23, סער`, `ליד אהרונוביץ
    // 80,`): one or two Hebrew words before a house number that ends the clause, not after a
    // count's word and without the preposition before them.
    static HE: OnceLock<Regex> = OnceLock::new();
    let hebrew = HE.get_or_init(|| {
        Regex::new(r#"((?:\p{Hebrew}[\p{Hebrew}"'׳״-]*[ ]){0,2}\p{Hebrew}[\p{Hebrew}"'׳״-]+)[ ](\d{1,4}[א-ת]?)(?:[,)\n]|\.(?:\s|$)|$)"#)
            .expect("built-in pattern")
    });
    if text.chars().any(|c| ('\u{05D0}'..='\u{05EA}').contains(&c)) {
        for caps in hebrew.captures_iter(text) {
            let (names, number) = (caps.get(1).expect("the names"), caps.get(2).expect("the number"));
            let mut start = number.start();
            for w in names.as_str().rsplit(' ') {
                if function_word(w) || count_word(w) {
                    break;
                }
                start -= w.len() + 1;
            }
            if start < number.start() {
                out.push(Match { kind: Kind::Address, start, end: number.end() });
            }
        }
    }
    // A name and a street type with no number (`शर्मा कुना मा छु`, `किराँत चौर?`): one or two words
    // before the type, none a function word, and after it only punctuation, a function word or
    // another script.
    let caseless_word = |w: &str| {
        !w.is_empty()
            && w.chars().all(|c| {
                !c.is_numeric()
                    && matches!(c, '\u{0590}'..='\u{05FF}' | '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}'
                        | '\u{0900}'..='\u{0DFF}' | '\u{1200}'..='\u{137F}' | '\u{200C}' | '\u{200D}')
            })
    };
    let mut tokens: Vec<(usize, &str)> = Vec::new();
    let mut at = 0;
    for t in text.split([' ', '\t', '\n']) {
        if !t.is_empty() {
            tokens.push((at, t));
        }
        at += t.len() + 1;
    }
    let trim = |t: &str| t.trim_end_matches(|c: char| c.is_ascii_punctuation() || "।؟،".contains(c)).to_string();
    for (i, &(at, t)) in tokens.iter().enumerate() {
        let word = trim(t);
        if !caseless_word(&word) || !street_type(&word) {
            continue;
        }
        let closed = word.len() < t.len()
            || tokens.get(i + 1).is_none_or(|&(_, next)| {
                let next = trim(next);
                function_word(next.as_str()) || !caseless_word(&next)
            });
        let mut start = at;
        for &(before_at, before) in tokens[..i].iter().rev().take(2) {
            let name = trim(before);
            if name.len() < before.len()
                || !caseless_word(&name)
                || function_word(name.as_str())
                || count_word(name.as_str())
                || street_type(&name)
            {
                break;
            }
            start = before_at;
        }
        if closed && start < at {
            out.push(Match { kind: Kind::Address, start, end: at + word.len() });
        }
    }
}

/// A street line with no cue, known by what is around it: the line before a post code and city
/// (`Knudsenkollen 88` over `0573 Oslo`), the part before `, 0573 Oslo` on one line, the line
/// under a person's name (`names`), and an item of a list (`- …`, `1. …`, `…; …`) another of whose
/// items is an address. The value holds a
/// house number and words that are all a name's, a particle's, a unit's or a street type's.
fn placed_addresses(text: &str, found: &[Match], names: &[Match], out: &mut Vec<Match>) {
    static R: OnceLock<(Regex, Regex, Regex)> = OnceLock::new();
    let (post_line, post_after, item) = R.get_or_init(|| {
        // A town's name, in a script with capitals or without (`Oslo`, `ঢাকা`, `กรุงเทพมหานคร`).
        let city = r"[\p{Lu}\p{Lo}][\p{L}\p{M}'.()-]*(?:\s[\p{L}\p{M}'.()-]+){0,3}";
        // Israel's post codes have seven digits.
        let code = r"(?:[A-Z]{1,2}-)?\d{3,7}(?:[ -]\d{2,4}|\s?[A-Z]{2})?";
        // After a town's name a post code has four digits or more: `Ilica 242` is a street.
        let code4 = r"(?:[A-Z]{1,2}-)?\d{4,6}(?:[ -]\d{2,4}|\s?[A-Z]{2})?";
        // British and Canadian post codes (`W1U 6TY`, `M5V 2T6`).
        let uk = r"[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}|[A-Z]\d[A-Z]\s?\d[A-Z]\d";
        // A town, then a state's letters and a post code (`Springfield, IL 62704`, `Sydney NSW 2000`).
        let town =
            r"[\p{Lu}\p{Lo}][\p{L}\p{M}'.-]*(?:\s[\p{Lu}\p{Lo}][\p{L}\p{M}'.-]*){0,2},?\s(?:[A-Z]{2,3}\s|[-–]\s)?";
        (
            Regex::new(&format!(
                r"^\s*(?:>\s*)*(?:(?:{code}|{uk})\s+{city}|{city}\s(?:[-–]\s)?{code4}|{town}(?:{code4}|{uk}))\s*$"
            ))
            .expect("built-in pattern"),
            // After `, `, ` | `, ` · ` or a tab: a post code and town, or a town and post code.
            Regex::new(&format!(
                r"^(?:,|،| \|| ·|\t)\s*(?:(?:{code}|{uk})\s+(?:\p{{Lu}}\p{{Ll}}|\p{{Lo}})|{town}(?:{code4}|{uk})\b)"
            ))
            .expect("built-in pattern"),
            // A bullet, a number, or the `>` of a quoted mail.
            Regex::new(r"^\s*(?:[-*•>]|\d{1,2}[.)])\s+").expect("built-in pattern"),
        )
    });
    // Under a street column's header a lowercase word may be in the street (`Na pažiti 76`).
    let shaped = |v: &str, strict: bool| {
        v.chars().any(|c| c.is_ascii_digit() || !c.is_ascii() && c.is_numeric())
            && v.split(|c: char| !c.is_alphabetic()).any(|w| w.chars().count() >= 2)
            && v.chars().count() <= 80
            && !v.contains(['@', ':', '=', '"', '<', '>', '(', ')'])
            && (named(v) || !strict && !v.starts_with(char::is_lowercase))
            && not_stopped_place(v)
            // `Kontonummer 1105 29 70562, Clearingnummer 5692`: numbers named as identifiers.
            && !v.split_whitespace().any(|w| identifier_label(&w.to_lowercase()))
    };
    // Over a post code and town, a street type makes a line a street without a number (`अग्रवाल पथ`).
    let typed = |v: &str| {
        named(v)
            && (2..=5).contains(&v.split_whitespace().count())
            && !v.contains(['@', ':', '=', '"', '<', '>', '(', ')'])
            && v.split_whitespace().enumerate().any(|(i, w)| street_word(w.trim_end_matches([',', '.']), i == 0))
            && not_stopped_place(v)
    };
    let push_any = |out: &mut Vec<Match>, start: usize, v: &str, strict: bool, typed_ok: bool| {
        let v = v.trim().trim_end_matches([',', '.', ';']);
        if (shaped(v, strict) || typed_ok && typed(v)) && !post_line.is_match(v) {
            let start = start + text[start..].find(v).unwrap_or(0);
            out.push(Match { kind: Kind::Address, start, end: start + v.len() });
        }
    };
    let push = |out: &mut Vec<Match>, start: usize, v: &str, strict: bool| push_any(out, start, v, strict, false);
    let lines: Vec<(usize, &str)> = text
        .split('\n')
        .scan(0, |at, l| {
            let start = *at;
            *at += l.len() + 1;
            Some((start, l))
        })
        .collect();
    // A record with a town, post code or country field (`"city": …`, `zip=`, `<Town>`, `  city:`):
    // its other values, quoted, in an element or after a YAML key, that end or start with a house
    // number (`"label": "Kožarska 2a"`); and a row of a CSV or table with a post code cell, its
    // cells of that shape.
    static RECORD: OnceLock<(Regex, Regex, Regex)> = OnceLock::new();
    let (record, value, postcode) = RECORD.get_or_init(|| {
        (
            Regex::new(r#"(?i)(?:["'<]|\b)(?:city|town|zip|zip_?code|postal_?code|post_?code|postcode|plz|ort|locality|suburb|province|country|cap)\b["']?>?\s*[:=>]"#)
                .expect("built-in pattern"),
            Regex::new(r#""([^"\n]{3,80})"|>([^<>\n]{3,80})</|^\s*-?\s*[\w-]+:\s+([^"'\n]{3,80}?)\s*$|=([^\s"=]{3,40})(?:\s|$)"#)
                .expect("built-in pattern"),
            Regex::new(r"^\s*(?:(?:[A-Z]{1,2}-)?\d{4,5}(?:[ -]\d{2,4})?|[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}|[A-Z]\d[A-Z]\s?\d[A-Z]\d)\s*$")
                .expect("built-in pattern"),
        )
    });
    if record.is_match(text) {
        for &(start, line) in &lines {
            for caps in value.captures_iter(line) {
                if let Some(m) = (1..caps.len()).find_map(|g| caps.get(g))
                    && house_numbered(m.as_str())
                {
                    push(out, start + m.start(), m.as_str(), true);
                }
            }
        }
    }
    for &(start, line) in &lines {
        for sep in [',', ';', '\t', '|'] {
            if line.matches(sep).nth(1).is_none() {
                continue;
            }
            let cells: Vec<&str> = line.split(sep).collect();
            if !cells.iter().any(|c| postcode.is_match(c)) {
                continue;
            }
            let mut at = start;
            for cell in cells {
                if house_numbered(cell.trim()) && !postcode.is_match(cell) {
                    push(out, at, cell, true);
                }
                at += cell.len() + sep.len_utf8();
            }
            break;
        }
    }
    // A table whose header names a street column (its first line, a markdown or HTML header), or
    // one of whose rows has an address in a column: that column of every row.
    static HEADER: OnceLock<(Regex, Regex, Regex)> = OnceLock::new();
    let (header, html_row, html_cell) = HEADER.get_or_init(|| {
        (
            Regex::new(r"(?i)^\s*(?:street(?: ?address| ?line)?|address(?:[ _]?line)?[ _]?1?|addr(?:ess)?_?1|line_?1|strasse|straße|anschrift|rue|calle|via|adresse|adres|indirizzo|endere[cç]o|morada|direcci[oó]n|domicilio|where|location|site|premises|shipping address|delivery address|ship[ _]to|deliver[ _]to)\s*$")
                .expect("built-in pattern"),
            Regex::new(r"(?is)<tr[^>]*>(.*?)</tr>").expect("built-in pattern"),
            Regex::new(r"(?is)<t[hd][^>]*>(.*?)</t[hd]>").expect("built-in pattern"),
        )
    });
    let mut tables: Vec<Vec<Vec<(usize, &str)>>> = Vec::new();
    for sep in [',', ';', '\t', '|'] {
        if lines.iter().filter(|(_, l)| l.contains(sep)).nth(1).is_none() {
            continue;
        }
        let rows: Vec<Vec<(usize, &str)>> = lines
            .iter()
            .filter(|(_, l)| l.contains(sep))
            .map(|&(start, line)| {
                let mut at = start;
                line.split(sep)
                    .map(|cell| {
                        let c = (at, cell);
                        at += cell.len() + sep.len_utf8();
                        c
                    })
                    .collect()
            })
            .collect();
        if rows.len() >= 2 {
            tables.push(rows);
        }
    }
    let html: Vec<Vec<(usize, &str)>> = html_row
        .captures_iter(if text.contains("<tr") { text } else { "" })
        .filter_map(|r| r.get(1))
        .map(|r| {
            html_cell
                .captures_iter(r.as_str())
                .filter_map(|c| c.get(1))
                .map(|c| (r.start() + c.start(), c.as_str()))
                .collect()
        })
        .collect();
    if html.len() >= 2 {
        tables.push(html);
    }
    let overlaps = |s: usize, cell: &str| found.iter().any(|m| m.start < s + cell.len() && m.end > s);
    for rows in tables {
        let width = rows.iter().map(Vec::len).max().unwrap_or(0);
        for col in 0..width {
            let cells: Vec<(usize, &str)> = rows.iter().filter_map(|r| r.get(col).copied()).collect();
            let (head_at, head) = cells[0];
            let first_line = lines.first().map_or(0, |&(_, l)| l.len());
            let named = header.is_match(head) && (head_at < first_line || text[..head_at].ends_with("<th>"));
            let beside = cells.iter().any(|&(s, c)| overlaps(s, c));
            if named || beside {
                for &(s, cell) in &cells[usize::from(named)..] {
                    push(out, s, cell, false);
                }
            }
        }
    }
    // Items of lists: bullet lines, and `;`-separated parts of a line (after a `Label:`).
    let mut items: Vec<Vec<(usize, &str)>> = Vec::new();
    let mut bullets = Vec::new();
    for (i, &(start, line)) in lines.iter().enumerate() {
        if let Some(b) = item.find(line) {
            bullets.push((start + b.end(), &line[b.end()..]));
        }
        if item.find(line).is_none() || i + 1 == lines.len() {
            if bullets.len() >= 2 {
                items.push(std::mem::take(&mut bullets));
            }
            bullets.clear();
        }
        if line.contains("; ") {
            let body = line.find(": ").map_or(0, |c| c + 2);
            let mut at = start + body;
            let mut parts = Vec::new();
            for part in line[body..].split("; ") {
                parts.push((at, part));
                at += part.len() + 2;
            }
            items.push(parts);
        }
        // The line under a person's name in a block (`Kind regards,\nAna Novak\nIlica 242`).
        if i > 0 && house_numbered(line.trim()) {
            let (above_at, above) = lines[i - 1];
            let lead = above.len() - above.trim_start().len();
            let named_above =
                names.iter().any(|n| n.start == above_at + lead && n.end == above_at + above.trim_end().len());
            if named_above {
                push(out, start, line, true);
            }
        }
        // The line before a post code and city.
        if let Some(&(_, next)) = lines.get(i + 1)
            && post_line.is_match(next)
            && !post_line.is_match(line)
        {
            let body = item.find(line).map_or(0, |b| b.end());
            push_any(out, start + body, &line[body..], true, true);
        }
        // `…, 0573 Oslo` on one line: the part between separators before it.
        for (at, _) in line.match_indices([',', '،', '|', '·', '\t']) {
            let at = if line[..at].ends_with(' ') && !line[at..].starts_with(',') { at - 1 } else { at };
            if post_after.is_match(&line[at..]) {
                let begin = line[..at]
                    .rfind(['|', ';', '\t', ',', '·', '،'])
                    .map_or(0, |b| b + line[b..].chars().next().map_or(1, char::len_utf8));
                let part = &line[begin..at];
                let tail = named_tail(part);
                push(out, start + begin + (part.len() - tail.len()), tail, true);
            }
        }
    }
    // The items of an HTML list or row (`<li>…</li>`, `<td>…</td>`), and lines in a row without
    // bullets, when one of them is an address (`Branches:\nKožarska 2a\nBakkestubben 77H`).
    static CELL: OnceLock<Regex> = OnceLock::new();
    let cell = CELL.get_or_init(|| Regex::new(r"<(?:li|td)>([^<>\n]{3,80})</(?:li|td)>").expect("built-in pattern"));
    // Most texts hold no HTML: its patterns run only on those with a cell or row tag.
    if text.contains("<li>") || text.contains("<td>") {
        let cells: Vec<(usize, &str)> =
            cell.captures_iter(text).filter_map(|c| c.get(1)).map(|m| (m.start(), m.as_str())).collect();
        if cells.len() >= 2 {
            items.push(cells);
        }
    }
    if lines.len() >= 2 {
        items.push(lines.iter().copied().filter(|(_, l)| house_numbered(l.trim())).collect());
    }
    for list in items {
        let listed = |&(s, part): &(usize, &str)| found.iter().any(|m| m.start < s + part.len() && m.end > s);
        if !list.iter().any(listed) {
            continue;
        }
        for (s, part) in list {
            push(out, s, part, true);
        }
    }
}

/// The end of a part that is a street's name and number, without the words of a sentence
/// before it (`Levering til Strandvejen 100`: `Strandvejen 100`); the whole part if it is named.
fn named_tail(part: &str) -> &str {
    if named(part) {
        return part;
    }
    let mut from = part.len();
    while let Some(space) = part[..from].trim_end().rfind(' ') {
        if !named(&part[space + 1..]) {
            break;
        }
        from = space + 1;
    }
    &part[from..]
}

/// Where the address field that starts at `start` ends (see `cued_addresses`), if it holds
/// anything.
fn field_end(text: &str, start: usize) -> Option<usize> {
    let hard = |c: char| "\n\r\t\";|<>[]{}".contains(c);
    let mut end = start;
    let mut at = start;
    for _ in 0..14 {
        let rest = &text[at..];
        let spaced = rest.trim_start_matches(' ');
        let comma = spaced.starts_with(',');
        let next = spaced.trim_start_matches(',').trim_start_matches(' ');
        let token_len = next.find(|c: char| c == ' ' || c == ',' || hard(c)).unwrap_or(next.len());
        let token = &next[..token_len];
        let bare = token.trim_end_matches(['.', ':', '\'']);
        // `(recipient unknown)`: a remark in brackets, not a quarter's name (`(예준김박리)`).
        let remark = token.strip_prefix('(').is_some_and(|t| t.starts_with(char::is_lowercase));
        if token.is_empty() || end > start && (lexicon_has(FIELD_END, token) || remark) {
            break;
        }
        // After a comma only what goes on with an address: a number, a capitalized word, a unit.
        let goes_on = || {
            bare.starts_with(|c: char| c.is_numeric() || c.is_uppercase() || c.is_alphabetic() && !c.is_lowercase())
                || lexicon_has(UNIT_WORDS, &bare.to_lowercase())
                || street_type(&bare.to_lowercase())
                // `буд.`, `ap.`, `kv.`: an abbreviated house or flat word.
                || token.ends_with('.') && bare.chars().count() <= 4
        };
        if comma && !goes_on() {
            break;
        }
        let token_start = text.len() - next.len();
        // A full stop ends the field unless it ends an abbreviation (`St.`, `ul.`, `kv.`).
        let number_next = next[token_len..].trim_start_matches(' ').starts_with(char::is_numeric);
        let stop = token.ends_with('.')
            && !number_next
            && (bare.chars().count() > 4 || bare.starts_with(|c: char| c.is_ascii_digit()));
        end = token_start + token.len();
        at = token_start + token.len();
        if stop {
            break;
        }
    }
    let trimmed = text[start..end].trim_end_matches([',', ':', '\'', '-']);
    (!trimmed.is_empty()).then_some(start + trimmed.len())
}

/// The most common Korean family names: a Korean name is written as one word, the family name's
/// syllable first (`김현지`), so a lone word of two to four syllables after a cue is a name when
/// it starts with one.
const KOREAN_SURNAMES: &str = "김 이 박 최 정 강 조 윤 장 임 한 오 서 신 권 황 안 송 류 유 전 홍 고 문 양 손 배 백 허 남 심 노 하 \
    곽 성 차 주 우 구 민 진 나 지 엄 채 원 천 방 공 현 함 변 염 여 추 도 소 석 선 설 마 길 연 위 표 명 기 반 왕 금 옥 육 인 맹 \
    제 모 탁 국 어 은 편 용 예 경 봉";

/// A single word of two to four Hangul syllables that starts with a family name (see `KOREAN_SURNAMES`).
fn korean_name(word: &str) -> bool {
    let n = word.chars().count();
    (2..=4).contains(&n)
        && word.chars().all(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
        && word.chars().next().is_some_and(|c| lexicon_has(KOREAN_SURNAMES, &c.to_string()))
}

/// Lowercase words inside a name (`Ana de la Cruz`, `Jan van der Berg`).
const PARTICLES: &str = "van von de der den da das do dos del della di du la le ter ten zu y bin al el";

/// Words after which a name is part of a place's name.
const PLACE_BEFORE: &str = "da de do das dos del la le les du des rue via calle avenida avenue rua praça piazza plaza sveti san santa saint st";

/// A surname by its form: `Mc`/`Mac`/`O'` names and the endings of Slavic, Nordic and Spanish
/// surnames (`-ová`, `-wicz`, `-sen`, `-sson`, `-ez`, `-escu`, `-nen`, `-ić`, `-oğlu`).
fn surname_shaped(word: &str) -> bool {
    let lower = word.to_lowercase();
    let endings = ["ová", "wicz", "czyk", "czak", "sen", "sson", "ez", "escu", "eanu", "nen", "ić", "oğlu"];
    (word.starts_with("Mc") || word.starts_with("Mac") || word.starts_with("O'"))
        && word.chars().nth(2).is_some_and(char::is_alphabetic)
        || lower.chars().count() >= 5 && endings.iter().any(|e| lower.ends_with(e))
}

fn lexicon_has(list: &str, word: &str) -> bool {
    list.split_whitespace().any(|w| w == word)
}

fn street_type(word: &str) -> bool {
    static S: OnceLock<HashSet<String>> = OnceLock::new();
    S.get_or_init(|| {
        STREET_TYPES
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once(':'))
            .flat_map(|(_, words)| words.split_whitespace())
            .flat_map(letter_forms)
            .collect()
    })
    .contains(word)
}

/// A word as Arabic and as Persian write it: the two scripts' `yeh` and `kaf` differ (`ميدان`,
/// `میدان`), and a street type is either.
fn letter_forms(word: &str) -> [String; 2] {
    let swap =
        |from: [char; 2], to: [char; 2]| word.replace(from[0], &to[0].to_string()).replace(from[1], &to[1].to_string());
    [swap(['ي', 'ك'], ['ی', 'ک']), swap(['ی', 'ک'], ['ي', 'ك'])]
}

/// A street type that comes before the street's name (`rue`, `ulica`, `Jalan`).
fn type_first(word: &str) -> bool {
    static S: OnceLock<HashSet<String>> = OnceLock::new();
    S.get_or_init(|| {
        let line = STREET_TYPES.lines().find_map(|l| l.strip_prefix("after:")).expect("street type lexicon");
        line.split_whitespace().flat_map(letter_forms).collect()
    })
    .contains(word)
}

/// A street type, or a word that ends in one (`Hauptstraße`, `Storgatan`); `first` in the
/// street, only a type that comes before the name.
fn street_word(word: &str, first: bool) -> bool {
    static SUFFIXES: OnceLock<Vec<&'static str>> = OnceLock::new();
    let lower = word.to_lowercase();
    (if first { type_first(&lower) } else { street_type(&lower) })
        || SUFFIXES
            .get_or_init(|| {
                let line = STREET_TYPES.lines().find_map(|l| l.strip_prefix("suffix:")).expect("street type lexicon");
                line.split_whitespace().collect()
            })
            .iter()
            .any(|s| lower.len() > s.len() && lower.ends_with(s))
}

/// The secret-looking value of a `name = value` pair, by the name alone (for JSON objects,
/// where the name is a key and the value a string of its own).
fn secret_value(name: &str, value: &str) -> bool {
    static R: OnceLock<(Regex, Regex)> = OnceLock::new();
    let (password, secret) = R.get_or_init(|| {
        (
            Regex::new(&format!("(?i)^(?:{PASSWORD_NAME}|{PASSWORD_WORDS})$")).expect("built-in pattern"),
            Regex::new(&format!("(?i)^(?:{SECRET_NAME})$")).expect("built-in pattern"),
        )
    });
    // The name first: it rules out almost every key, and the value tests allocate.
    let (is_password, is_secret) = (|| password.is_match(name), || secret.is_match(name));
    (value.len() >= 6 && is_password() || is_secret() && credential_like(value))
        && !is_placeholder(value)
        && not_filler(value)
}

/// Documentation and template values, not credentials: `YOUR_API_KEY`, `sk-xxxx…`, AWS's
/// `AKIAIOSFODNN7EXAMPLE`, `<your-key>`, `${VAR}`, `changeme`, `********`.
fn not_filler(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    let words = ["example", "your", "placeholder", "dummy", "redacted", "changeme", "sample", "${", "{{"];
    let distinct: HashSet<char> = v.chars().filter(char::is_ascii_alphanumeric).collect();
    let xs = lower.matches('x').count();
    // `<your-key>`, `<API_KEY>`: a name in angle brackets; a `<` among random characters is not.
    let tag = v.split('<').skip(1).any(|rest| {
        rest.split_once('>').is_some_and(|(name, _)| {
            name.len() >= 2 && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ' '))
        })
    });
    let mostly_x = lower.contains("xxxx") && xs * 2 > v.len();
    !(words.iter().any(|w| lower.contains(w)) || tag || mostly_x) && distinct.len() >= 4
}

/// A vendor key whose random part is real: not a placeholder.
fn not_placeholder(v: &str) -> bool {
    not_filler(v) && v.chars().filter(char::is_ascii_alphanumeric).collect::<HashSet<_>>().len() >= 8
}

/// ISO 13616: move the first four characters to the end, letters to numbers, mod 97 is 1.
fn iban(s: &str) -> bool {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut rem = 0u32;
    for c in tail.chars().chain(head.chars()) {
        let v = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    rem == 1
}

/// The SSA never issues area 000, 666 or 9xx, group 00 or serial 0000; the separators, if
/// any, are the same twice.
fn ssn(s: &str) -> bool {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let seps: Vec<char> = s.chars().filter(|c| !c.is_ascii_digit()).collect();
    let (area, group, serial) = (&digits[..3], &digits[3..5], &digits[5..]);
    (seps.is_empty() || seps.len() == 2 && seps[0] == seps[1])
        && area != "000"
        && area != "666"
        && !area.starts_with('9')
        && group != "00"
        && serial != "0000"
}

/// A full IPv6 address (clock times like 12:30:45 do not parse).
fn ipv6(s: &str) -> bool {
    let s = s.trim_end_matches(':');
    s.matches(':').count() >= 2
        && s.chars().filter(char::is_ascii_hexdigit).count() >= 3
        && s.parse::<std::net::Ipv6Addr>().is_ok()
}

/// Mixed character classes and no repeated filler: a credential, not a word like "redacted".
fn looks_random(s: &str) -> bool {
    s.len() >= 8 && classes(s) >= 2 && entropy(s) >= 3.0
}

/// A value under a credential name that is one: random-looking, or a password's mix of
/// classes (`Welcome1!`, `trustno1trustno1`), not a word.
fn credential_like(v: &str) -> bool {
    looks_random(v) || classes(v) >= 3 || classes(v) >= 2 && v.len() >= 12 && v.bytes().any(|b| b.is_ascii_digit())
}

/// How many of lowercase, uppercase, digits and symbols `s` mixes (`Welcome1!`: four).
fn classes(s: &str) -> usize {
    [
        s.chars().any(|c| c.is_ascii_lowercase()),
        s.chars().any(|c| c.is_ascii_uppercase()),
        s.chars().any(|c| c.is_ascii_digit()),
        s.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|c| **c)
    .count()
}

fn entropy(s: &str) -> f64 {
    let mut counts = HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = s.chars().count() as f64;
    counts.values().map(|&c| -(c as f64 / n) * (c as f64 / n).log2()).sum()
}

/// A card number: an issuer prefix with its lengths (Visa, Mastercard, Amex, Diners, Discover,
/// JCB, UnionPay) and a valid Luhn check digit.
fn card(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    let n = digits.len();
    let lengths_ok = match (digits[0], digits[1]) {
        (4, _) => matches!(n, 13 | 16 | 19),
        (5, 1..=5) | (2, 2..=7) => n == 16,
        (3, 4 | 7) => n == 15,
        (3, 0 | 6 | 8 | 9) => (14..=19).contains(&n),
        (3, 5) | (6, _) => (16..=19).contains(&n),
        _ => false,
    };
    lengths_ok && luhn(&digits)
}

fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d })
        .sum();
    sum.is_multiple_of(10)
}

/// 8 to 15 digits, separators never doubled and not the shape of a date (`21 09 2025` too) or a
/// time; without a `+`, a trunk `0` or an area code in brackets, at least three groups (a national
/// number is written in groups; a count or a range is not).
fn phone(s: &str) -> bool {
    static DATE: OnceLock<Regex> = OnceLock::new();
    let date = DATE.get_or_init(|| {
        Regex::new(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$|^\d{4}-\d{4}$|^[0-3]?\d [01]?\d (?:19|20)\d\d$|^(?:19|20)\d\d [01]?\d [0-3]?\d$")
            .expect("built-in pattern")
    });
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let doubled = s.as_bytes().windows(2).any(|w| matches!(w, [b' ' | b'.' | b'-' | b'/', b' ' | b'.' | b'-' | b'/']));
    let groups = s.split([' ', '.', '-', '/', '(', ')']).filter(|g| !g.is_empty()).count();
    let marked = s.starts_with('+') || s.starts_with('0') || s.starts_with('(');
    // Hyphenated codes (`400-1234-56`, `123-45-6789`) end in a short group or have an SSN's shape.
    let lengths: Vec<usize> = s.split([' ', '.', '-', '/']).map(str::len).collect();
    let short_end = lengths.last().is_some_and(|&n| n < 3);
    let code = s.contains('-') && !s.contains(' ') && (short_end || lengths == [3, 2, 4]);
    let dotted_quad = groups == 4 && s.split('.').count() == 4;
    // One-digit groups, not counting a bracketed trunk `(0)`.
    let single = s.replace("(0)", "").split([' ', '.', '-', '/', '(', ')']).filter(|g| g.len() == 1).count();
    // `13.7563 100.5018`: a latitude and a longitude, not a number in groups.
    let decimal = |p: &str| p.split_once('.').is_some_and(|(a, b)| (1..=3).contains(&a.len()) && b.len() >= 3);
    let coordinates = s.split(' ').count() == 2 && s.split(' ').all(decimal);
    // `260 770576 9 684.92`: numbers of a row, the last with decimals; a phone after its country
    // code may mix the two (`+1 415.555.2671`), not end so.
    let decimals_last = !s.starts_with('+')
        && s.contains(' ')
        && s.rsplit_once(['.', ' ']).is_some_and(|(head, tail)| s.as_bytes()[head.len()] == b'.' && tail.len() == 2);
    (8..=15).contains(&digits)
        && !doubled
        && !coordinates
        && !decimals_last
        && !date.is_match(s)
        && !dotted_quad
        && !code
        && single <= 1
        && (marked || groups >= 3)
}

/// Not part of an identifier, a version or a longer dotted number, not named as another number
/// (`Booking number: 9317 759 815`) nor an amount or a quantity (`87 278 332 Ft`).
fn phone_context(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '#');
    // The seconds of a time (`09:30:00.123456`).
    let after_time = text[..start].ends_with(':');
    // `12:00:01` after a date, `255.255.255.0`: the number goes on.
    let mut rest = text[end..].chars();
    let goes_on = matches!(rest.next(), Some(':' | '.')) && rest.next().is_some_and(|c| c.is_ascii_digit());
    // `4 122 236 463`, `UPC 0 15048 42982 2`, `firmware 6.81.316.3468`: a group before it, which no
    // phone pattern starts with, makes the number longer than the match.
    let mut back = text[..start].chars().rev();
    let goes_back = matches!(back.next(), Some(' ' | '.' | '-')) && back.next().is_some_and(|c| c.is_ascii_digit());
    !word(before)
        && !word(after)
        && !after_time
        && !goes_on
        && !goes_back
        && !named_otherwise(text, start)
        && !measured(text, start, end)
        && !address_number(text, start, end)
}

/// Words that name the number after them as one that is not a phone's: identifiers of orders,
/// bookings, accounts, parcels, products, devices and banks, and counted things, in several
/// languages (`Booking number`, `Numéro client`, `Nº de cliente`, `Numer przesyłki`, `S/N`, `BLZ`).
const NOT_PHONE_NAMES: &str = "version invoice inv order orders sku part ref reference ticket serial tracking shipment parcel \
    consignment waybill awb isbn issn booking confirmation reservation reserva prenotazione réservation \
    reservierung case claim incident policy polizza póliza member membership loyalty flyer customer client cliente \
    kunde klant kund account acct a/c konto compte cuenta conto rekening contract vertrag contrat contrato \
    s/n sn p/n pn article artikel item lot batch meter zähler compteur licence license key rma po imei meid iccid \
    gtin ean upc blz routing aba sort bsb transit clabe ifsc vat tax siret siren ein tin nif cif pesel cpf cnpj \
    facture rechnung fattura factura factuur faktura fatura pedido ordine bestelling bestellung commande zamówienie \
    buletin buletinului seria заказ счёт счет przesyłki przesyłka sendung paket colis envío envio spedizione zending 注文番号 订单号 주문번호 \
    population stock inventory total amount betrag montant importe importo bedrag kwota сумма balance saldo \
    revenue umsatz budget price preis prix precio prezzo prijs cena цена cost salary distance disk memory size \
    thread pid tid process port session job";

/// Words that name a phone number, by their start (`Telefonnummer`, `phone_number`, `mobile`,
/// `WhatsApp`, `Rückruf`), and so outweigh an identifier's word beside them (`customer mobile`).
const PHONE_STEMS: &[&str] = &[
    "tel", "tél", "phon", "fon", "mobil", "móvil", "movil", "cell", "handy", "fax", "whatsapp", "sms", "call", "ring",
    "dial", "text", "contact", "kontakt", "rückruf", "ruf", "puh", "tlf", "gsm", "hotline", "тел", "моб", "電話",
    "电话", "전화",
];

/// A word of up to four before the number on its line, after the last number, bracket or
/// separator before it, names it as an identifier or a counted thing (see `NOT_PHONE_NAMES`; a
/// key's parts count, `customer_id`), or a compound does (`Bestellnummer`), or the word right
/// before it is `no` or `id`; and no word there names a phone.
fn named_otherwise(text: &str, start: usize) -> bool {
    let line = &text[text[..start].rfind('\n').map_or(0, |i| i + 1)..start];
    let mut named = false;
    for (i, token) in line.split_whitespace().rev().take(4).enumerate() {
        if token.contains(|c: char| c.is_ascii_digit()) {
            break;
        }
        let word =
            token.trim_matches(|c: char| c.is_ascii_punctuation() && c != '/' || "°º№".contains(c)).to_lowercase();
        let mut parts = word.split(['_', '-', '.']).filter(|p| !p.is_empty());
        if parts.clone().any(|p| PHONE_STEMS.iter().any(|s| p.starts_with(s))) {
            return false;
        }
        named |= lexicon_has(NOT_PHONE_NAMES, &word)
            || identifier_label(&word)
            || parts.any(|p| lexicon_has(NOT_PHONE_NAMES, p) || i == 0 && (p == "no" || p == "id"));
        if token.contains(|c: char| ";|,()[]{}<>=".contains(c)) {
            break;
        }
    }
    named
}

/// Currencies and units of measure, written after an amount or a quantity (`€`, `Ft`, `zł`, `ms`,
/// `units`) or before it (`R$`, `PLN`).
const MEASURES: &str = "eur usd gbp chf sek nok dkk pln czk huf ron rub uah jpy cny inr brl mxn ars cop clp \
    aud cad nzd zar sgd hkd krw vnd idr php thb myr aed sar ils kr ft zł kč lei руб € $ £ ¥ ₹ ₽ ₩ ₺ ₫ ₴ r$ us$ % \
    units pcs pieces items bytes kb mb gb tb kib mib gib ms µs ns sec secs seconds mins minutes hrs hours days km \
    mi kg lb lbs ml mm cm people persons votes tokens requests ops views visits downloads users rows records";

/// An amount or a quantity: a currency or unit after the number (past its decimals, `61 354 617,52
/// zł`, `81.674.541,- €`) or a currency's code or sign right before it (`R$ 70.904.167,70`, not a
/// word such as `Ron`).
fn measured(text: &str, start: usize, end: usize) -> bool {
    let mut rest = &text[end..];
    if let Some(decimals) = rest.strip_prefix([',', '.']) {
        let n = decimals.find(|c: char| !c.is_ascii_digit()).unwrap_or(decimals.len());
        rest = if n > 0 { &decimals[n..] } else { decimals.strip_prefix('-').unwrap_or(rest) };
    }
    let rest = rest.trim_start_matches([' ', '\u{a0}']);
    let unit: String = match rest.chars().next() {
        Some(c) if c.is_alphabetic() => rest.chars().take_while(|c| c.is_alphabetic()).collect(),
        Some(c) => c.to_string(),
        None => String::new(),
    };
    let lead = text[..start].trim_end_matches([' ', '\u{a0}']);
    let currency = lead.rsplit(char::is_whitespace).next().unwrap_or_default();
    lexicon_has(MEASURES, &unit.to_lowercase())
        || !currency.chars().any(char::is_lowercase) && lexicon_has(MEASURES, &currency.to_lowercase())
}

/// A compound naming a number that is not a phone's (`Bestellnummer`, `Kundennr`, `klantnummer`),
/// unlike `Telefonnummer`, `Rufnummer` or `Mobilnummer`.
fn identifier_label(label: &str) -> bool {
    let compound = ["nummer", "nr"].iter().any(|w| label.len() > w.len() && label.ends_with(w));
    // The phone word leads the compound (`Bestellnummer` holds `tel` too).
    let phone = PHONE_STEMS.iter().chain(&["notruf", "festnetz", "service"]).any(|w| label.starts_with(w));
    compound && !phone
}

/// Digits of a street address with no phone cue on the line since the number before: a post code
/// shaped like Brazil's (`01310-200`) or a US ZIP+4 after a state (`MA 02134-1234`), a number
/// without a trunk `0`, `+` or bracket between a street's name and a town (`Storgatan 123 114 55
/// Stockholm`, `ul. Marszałkowska 12/34 00-950 Warszawa`): house numbers and post codes run
/// together there; or one group of digits between a house number and a town.
fn address_number(text: &str, start: usize, end: usize) -> bool {
    static CUE: OnceLock<Regex> = OnceLock::new();
    let cue = CUE.get_or_init(|| {
        Regex::new(r"(?i)\b(?:tel|tél|telp|tlf|tfno|puh|ph|phone|telephone|telefon[eo]?|teléfono|téléphone|fon|fone|mobile?|mob|móvil|movil|cell|cel|celular|handy|fax|call|whatsapp|contact|kontakt|тел|телефон)\b|電話|电话|전화|☎|📞")
            .expect("built-in pattern")
    });
    let line = &text[text[..start].rfind('\n').map_or(0, |i| i + 1)..start];
    // A cue before an earlier number names that one (`Phone +81 80-6497-3988 · ul. Lipowa 27/2 …`).
    if cue.is_match(&line[line.rfind(|c: char| c.is_ascii_digit()).map_or(0, |i| i + 1)..]) {
        return false;
    }
    let v = &text[start..end];
    let lengths: Vec<usize> = v.split('-').map(str::len).collect();
    let state = line.len() >= 3 && {
        let b = line.as_bytes();
        b[b.len() - 1] == b' ' && b[b.len() - 2].is_ascii_uppercase() && b[b.len() - 3].is_ascii_uppercase()
    };
    let post_code = lengths == [5, 3] || (lengths == [5, 4] && state);
    // Grouped like a phone number, with one separator (`415 555 2671`, `22 33 44 55`, `912.345.678`),
    // unlike a house number and a post code (`123 114 55`, `263-267 1016`).
    let groups: Vec<usize> = v.split([' ', '.', '-', '/']).map(str::len).collect();
    let mut separators = v.chars().filter(|c| !c.is_ascii_digit());
    let one_separator = separators.next().is_some_and(|first| separators.all(|c| c == first));
    let phone_groups = one_separator
        && (groups == [3, 3, 4] || (groups.len() >= 3 && groups[0] >= 2 && groups.iter().all(|&n| n == groups[0])));
    let unmarked = !v.starts_with(['0', '+', '(']) && !phone_groups;
    let after_name = line.strip_suffix(' ').and_then(|t| t.chars().next_back()).is_some_and(char::is_alphabetic);
    // A capital, or a letter of a script without capitals (`서울`, `กรุงเทพ`).
    let town_after =
        text[end..].strip_prefix(' ').is_some_and(|r| r.starts_with(|c: char| c.is_alphabetic() && !c.is_lowercase()));
    // `پلاک ۷۵ 0328544443 شمال`: a post code in one group after the house number, before the town.
    let after_house = line.strip_suffix(' ').and_then(|t| t.chars().next_back()).is_some_and(char::is_numeric);
    post_code
        || (unmarked && after_name && town_after)
        || (after_house && town_after && v.bytes().all(|b| b.is_ascii_digit()))
}

/// An address that points at someone: not loopback, unspecified, broadcast or a netmask.
fn ipv4(s: &str) -> bool {
    let Ok(ip) = s.parse::<std::net::Ipv4Addr>() else { return false };
    let bits = u32::from(ip);
    let netmask = bits.leading_ones() >= 8 && bits.leading_ones() + bits.trailing_zeros() == 32;
    !(ip.is_loopback() || ip.is_unspecified() || ip.is_broadcast() || netmask)
}

/// An address stands alone: not inside a longer dotted number, and not a version
/// (`version 10.2.14.3`, `v1.2.3.4`).
fn ipv4_context(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let mut after = text[end..].chars();
    let glued = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let dotted_on = text[end..].starts_with('.') && after.nth(1).is_some_and(|c| c.is_ascii_digit());
    let lead = text[..start].to_ascii_lowercase();
    let lead = lead.trim_end();
    let version = ["version", "release", "build", "v", "ver"].iter().any(|w| lead.ends_with(w));
    // `10.0.0.0/8` names a network, not a host.
    let network = text[end..].starts_with('/') && text[end..].chars().nth(1).is_some_and(|c| c.is_ascii_digit());
    !glued(before) && before != Some('.') && !glued(text[end..].chars().next()) && !dotted_on && !version && !network
}

/// The words without which a detector cannot match, as one set: a single pass over a text
/// tells which of them it holds (see `may_contain`).
fn literal_gates() -> &'static RegexSet {
    static S: OnceLock<RegexSet> = OnceLock::new();
    S.get_or_init(|| {
        RegexSet::new([
            r"sk-|AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox[abprs]-|hooks\.slack|AIza|_live_|_test_|whsec_|hf_|npm_|key-|SK|AC|SG\.",
            &format!(r"(?i)key|secret|token|pass|pwd|credential|bearer|basic|authoriz|://|{PASSWORD_WORDS}"),
            &format!(r"(?i){PASSPORT_WORDS}"),
            &format!(r"(?i){BIRTH_WORDS}"),
            r"(?i)addr|adres|street|line_?1|location|naslov|cím|διεύθυνση|διευθυνση|հասցե|მისამართი|địa chỉ|alamat|manzil|ünvan|unvan|ulica|כתובת|住所|地址|주소|pick|drop|venue|residence|premises|home|left|dropped|parked|waiting|staying|stuck|standing|drop|now at|outside|near|in front|opposite|returned|redeliver|sent|mailed|posted|forwarded|pickup|moving|dest|stras|straß|i'm at|i am at|we're at|we are at|meet|pick|located|find us|visit us|wohn|habit|viv|mieszka|abit|woon|bor |живу|живёт|живет|bydlí|tinggal|anschrift|direcc|domicil|indirizzo|endere|morada|osoite|адрес|live|living|resid|moved|wohnhaft|office|deliver|bill|ship|send|anwani|tirahan|adirẹsi|ठेगाना|ঠিকানা|முகவரி|آدرس|نشانی|عنوان|ที่อยู่|पता",
        ])
        .expect("built-in pattern")
    })
}

/// Indices into `literal_gates`.
const GATE_KEY: usize = 0;
const GATE_SECRET: usize = 1;
const GATE_PASSPORT: usize = 2;
const GATE_DOB: usize = 3;
const GATE_ADDRESS: usize = 4;

/// Cheap tests that rule a detector out before its regex runs (most texts hold no `@`, few
/// digits and no credential word); they keep `evals check` fast on large datasets. `gates` are
/// the literal gates the text matched.
fn may_contain(kind: Kind, text: &str, digits: usize, gates: &SetMatches) -> bool {
    match kind {
        Kind::PrivateKey => text.contains("PRIVATE KEY"),
        Kind::Jwt => text.contains("eyJ"),
        Kind::ApiKey => gates.matched(GATE_KEY),
        Kind::Secret => gates.matched(GATE_SECRET),
        Kind::Email => text.contains('@'),
        Kind::Passport => gates.matched(GATE_PASSPORT),
        Kind::Dob => (digits >= 4 || other_digits(text)) && gates.matched(GATE_DOB),
        Kind::Iban => digits >= 2,
        // Four numbers and three dots, or two colons.
        Kind::Ip => digits >= 4 && text.contains('.') || text.bytes().filter(|b| *b == b':').count() >= 2,
        Kind::Address => digits >= 1 || gates.matched(GATE_ADDRESS) || other_digits(text),
        Kind::Ssn | Kind::Phone => digits >= 8,
        Kind::Card => digits >= 13,
        Kind::Person => true,
    }
}

/// Words that count things: the number after one is no house number (`Level 2 Car Park`,
/// `Top 5 Hiking Trails`), nor is the last part of a version (`v3.2 Street View`) or of a time
/// (`10:00`); nor is a flat's number (`Apt 12, Praça Jolana, 119B`).
const COUNTED: &str = "level gate platform room row seat terminal page chapter step section version build sprint week \
    episode season table figure ticket order invoice top part vol volume no lane track stage phase round day \
    apt apartment flat suite unit piso apto dpto depto lgh kv app article paragraph annex appendix exhibit question \
    exercise task option type grade class case problem item model";

/// The first number of the value follows a counting word (`Via Ferrata Grade 3`), not a house
/// number's abbreviation (`Calle Mayor No. 5`).
fn counted_number(v: &str) -> bool {
    let tokens: Vec<&str> = v.split_whitespace().collect();
    tokens.iter().position(|t| t.starts_with(|c: char| c.is_numeric())).is_some_and(|i| {
        let word = tokens[..i].last().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase());
        word.is_some_and(|w| w != "no" && lexicon_has(COUNTED, &w))
    })
}

fn not_counted(text: &str, start: usize, _end: usize) -> bool {
    let before = &text[..start];
    // `Unit 5/12 Smith St`: a unit and a house number, the Australian way.
    let pair = text[start..].split(' ').next().is_some_and(|n| {
        n.split_once('/').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        })
    });
    if pair {
        return true;
    }
    if before.ends_with(|c: char| c == '.' || c == ':' || c.is_ascii_digit()) {
        return false;
    }
    let trimmed = before.trim_end();
    let word = trimmed.trim_end_matches('.').rsplit(|c: char| !c.is_alphanumeric()).next().unwrap_or_default();
    let word = word.to_lowercase();
    // `No. 14, 2nd Cross`: the abbreviation of a house number.
    let house = trimmed.ends_with('.') && (word == "no" || word == "nr");
    !(before.ends_with(' ') && lexicon_has(COUNTED, &word) && !house)
}

/// After a comma, a number followed by a lowercase word counts things (`Oxford Street, 26 shops`),
/// unlike a house number (`Oak Avenue, 45`).
fn not_a_count(text: &str, start: usize, end: usize) -> bool {
    let rest = &text[end..];
    let counted = text[start..end].rsplit_once(", ").is_some_and(|(_, n)| n.bytes().all(|b| b.is_ascii_digit()));
    !(counted && rest.starts_with(' ') && rest[1..].starts_with(char::is_lowercase))
}

/// The number is not a year or a count of the lowercase word after it (`Alaska 5 days`), though a short
/// word or one of the sentence may follow a house number (`Školní 3 v Praze`, `… 12 and`).
fn not_counting(text: &str, start: usize, end: usize) -> bool {
    // `Geneva 2026`, `Alaska 2024`: a year after a place's name.
    let number = text[start..end].rsplit(' ').next().unwrap_or_default();
    let year = number.len() == 4 && (number.starts_with("19") || number.starts_with("20"));
    let next =
        text[end..].strip_prefix(' ').and_then(|r| r.split(|c: char| !c.is_alphabetic()).next()).unwrap_or_default();
    let counted = next.starts_with(char::is_lowercase) && next.chars().count() >= 3 && !lexicon_has(FIELD_END, next);
    !(year || counted)
}

/// A digit of another script (`۱۲`, `১২`, `१२`, `๑๒`): house numbers are written in them.
fn other_digits(text: &str) -> bool {
    !text.is_ascii() && text.chars().any(|c| !c.is_ascii() && c.is_numeric())
}

/// Every sensitive value in `text`, non-overlapping, in order.
pub fn scan(text: &str) -> Vec<Match> {
    let mut found: Vec<(usize, Match)> = Vec::new();
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    let dets = detectors();
    let gates = literal_gates().matches(text);
    // One pass for the street vocabulary rules out the six address patterns at once.
    let mut address: Option<bool> = None;
    // A kind's gate, asked once for all its detectors.
    let mut open: [Option<bool>; 14] = [None; 14];
    for (priority, det) in dets.iter().enumerate() {
        if !*open[det.kind as usize].get_or_insert_with(|| may_contain(det.kind, text, digits, &gates)) {
            continue;
        }
        if det.kind == Kind::Address && !*address.get_or_insert_with(|| address_words().is_match(text)) {
            continue;
        }
        let regex = det.regex.get_or_init(|| Regex::new(&det.pattern).expect("built-in pattern"));
        for caps in regex.captures_iter(text) {
            // A pattern with alternatives keeps its value in the first group that took part.
            let Some(m) = (det.group..caps.len()).find_map(|g| caps.get(g)) else { continue };
            if (det.valid)(m.as_str()) && (det.around)(text, m.start(), m.end()) {
                found.push((priority, Match { kind: det.kind, start: m.start(), end: m.end() }));
            }
        }
    }
    let mut names = Vec::new();
    // A name starts with a capital: most JSON values (`role: user`) hold none.
    if text.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        people(text, &mut names);
    }
    if gates.matched(GATE_ADDRESS) {
        let mut cued = Vec::new();
        cued_addresses(text, &names, &mut cued);
        // The whole field after a cue wins over the street patterns' part of it, not over
        // any other kind.
        let first_address = dets.iter().position(|d| d.kind == Kind::Address).unwrap_or(dets.len());
        found.extend(cued.into_iter().map(|m| (first_address, m)));
    }
    if !text.is_ascii() {
        let mut caseless = Vec::new();
        caseless_streets(text, &mut caseless);
        found.extend(caseless.into_iter().map(|m| (dets.len(), m)));
    }
    if digits >= 1 || other_digits(text) {
        let addresses: Vec<Match> = found.iter().map(|(_, m)| *m).filter(|m| m.kind == Kind::Address).collect();
        let mut placed = Vec::new();
        placed_addresses(text, &addresses, &names, &mut placed);
        found.extend(placed.into_iter().map(|m| (dets.len(), m)));
    }
    found.extend(names.into_iter().map(|m| (dets.len(), m)));
    found.sort_by_key(|(p, m)| (*p, m.start, std::cmp::Reverse(m.end)));
    let mut kept: Vec<Match> = Vec::new();
    for (_, m) in found {
        if kept.iter().all(|k| m.end <= k.start || m.start >= k.end) {
            kept.push(m);
        }
    }
    kept.sort_by_key(|m| m.start);
    // `Václavské náměstí 37`: a type found as one before its name, after an adjective that names
    // the street (Slavic languages put the type either side).
    for m in kept.iter_mut().filter(|m| m.kind == Kind::Address && text[m.start..].starts_with(char::is_lowercase)) {
        let first = text[m.start..].split(' ').next().unwrap_or_default();
        let before = text[..m.start].strip_suffix(' ').and_then(|t| t.rsplit([' ', '\n', '\t']).next());
        if let Some(name) = before
            && name.starts_with(char::is_uppercase)
            && name.chars().all(char::is_alphabetic)
            && ["ské", "ská", "ský", "ého", "ní", "ná", "ova", "ová", "ая", "ое", "ий", "ый"]
                .iter()
                .any(|e| name.ends_with(e))
            && street_type(first)
        {
            m.start -= name.len() + 1;
        }
    }
    with_units(text, &mut kept);
    post_code_lines(text, &mut kept);
    if !text.is_ascii() {
        // `বাড়ী নং ৭, হাজীসড়ক এ চলে`: the words of the sentence after a street are not in it.
        for m in kept.iter_mut().filter(|m| m.kind == Kind::Address) {
            while let Some((head, last)) = text[m.start..m.end].rsplit_once(' ')
                && function_word(last)
            {
                m.end = m.start + head.len();
            }
        }
    }
    kept.retain(|m| m.end > m.start);
    named_beside(text, &mut kept);
    not_towns(text, &mut kept);
    kept
}

/// A name right after a street and a comma, or under a town's key, is the town (`…, Santiago del
/// Estero`, `city: Marco de Canaveses`).
fn not_towns(text: &str, kept: &mut Vec<Match>) {
    let town = |i: usize| {
        let m: &Match = &kept[i];
        let after_street = i > 0 && kept[i - 1].kind == Kind::Address && &text[kept[i - 1].end..m.start] == ", ";
        let lead = text[..m.start].trim_end_matches([' ', '"', '\'', ':', '=', '>']).to_lowercase();
        let key = ["city", "town", "ort", "locality", "suburb", "municipality"].iter().any(|k| lead.ends_with(k));
        m.kind == Kind::Person && (after_street || key)
    };
    let drop: Vec<usize> = (0..kept.len()).filter(|&i| town(i)).collect();
    for i in drop.into_iter().rev() {
        kept.remove(i);
    }
}

/// Words that name a place or a desk, not a person, in a signature or a row (`Front Desk`).
const NOT_PERSON: &str = "desk office reception department warehouse store shop branch headquarters hq hotel \
    restaurant cafe bar clinic hospital school university bank pharmacy market mall center centre park station airport";

/// People named beside a street of the same record: the cell, field or line right before it
/// (`41871,Jolana Ježek,80/4 Lordelo Drive`, `<td>Stanisław Pracz</td><td>…`, `Kind regards,\nProf.
/// Jano Steffensen\n472 Huff Parkways`), two or three name words, in any script.
fn named_beside(text: &str, kept: &mut Vec<Match>) {
    static R: OnceLock<Regex> = OnceLock::new();
    let before = R.get_or_init(|| {
        // Capitalized, in capitals (a record written in capitals, `SHIP TO:\nΧΡΙΣΤΟΔΟΎΛΑ ΒΑΡΘΑΛΊΤΗ`) or
        // in a script without capitals.
        let word = format!(r"(?:\p{{Lu}}[\p{{Ll}}\p{{M}}]+(?:[-'’]\p{{Lu}}[\p{{Ll}}\p{{M}}]+)*|\p{{Lu}}[\p{{Lu}}\p{{M}}]+|{CASELESS_NAME})");
        let particles = format!("(?:{})", PARTICLES.replace(' ', "|"));
        Regex::new(&format!(
            r#"(?:^|[\n,;\t|>:"])[ \t]*((?:(?i:prof|dr|mr|mrs|ms|fru|herr|frau|sr|sra|mme)\.?[ ])?{word}(?:[ ](?:{particles}[ ])*{word}){{1,2}}|\p{{Hangul}}{{2,4}})[ \t]*(?:[,;]"?[ \t]?|\t|[ \t]?\|[ \t]?|</t[dh]>\s*<t[dh][^>]*>|</\w+>\s*<\w+>|\n[ \t]*)$"#
        ))
        .expect("built-in pattern")
    });
    let mut people = Vec::new();
    // Only beside what is surely a street: a street type, three words or more, or another script
    // (not `Gen 2` in a product's row).
    let street = |m: &Match| {
        let v = &text[m.start..m.end];
        !v.is_ascii()
            || v.split_whitespace().count() >= 3
            || v.split_whitespace().enumerate().any(|(i, w)| street_word(w.trim_end_matches([',', '.']), i == 0))
    };
    for (i, m) in kept.iter().enumerate().filter(|(_, m)| m.kind == Kind::Address && street(m)) {
        // A name found already (`Prof. Jano Steffensen` as `Jano Steffensen`) may grow over its title.
        let lo = kept[..i].iter().rev().find(|k| k.kind != Kind::Person).map_or(0, |k| k.end);
        let mut from = m.start.saturating_sub(120).max(lo);
        while !text.is_char_boundary(from) {
            from += 1;
        }
        let Some(name) = before.captures(&text[from..m.start]).and_then(|c| c.get(1)) else { continue };
        let words: Vec<String> = name.as_str().split(' ').map(|w| w.trim_end_matches('.').to_lowercase()).collect();
        let place = words.iter().any(|w| {
            lexicon_has(NOT_PERSON, w) || lexicon_has(COMPANY, w) || street_type(w) || function_word(w.as_str())
        });
        // In a table, the name's column must not be headed as a place (`| Store | Where |`).
        let line_start = text[..from + name.start()].rfind('\n').map_or(0, |n| n + 1);
        let first_line = text.split('\n').next().unwrap_or_default();
        let headed_place = [',', ';', '\t', '|'].iter().any(|&sep| {
            let column = text[line_start..from + name.start()].matches(sep).count();
            line_start > 0
                && first_line.split(sep).nth(column).is_some_and(|h| {
                    let h = h.trim().to_lowercase();
                    lexicon_has(NOT_PERSON, &h)
                        || lexicon_has("where location site city town place venue company business", &h)
                })
        });
        // Capitals make a name only in a record written in capitals; one Hangul word, only a Korean name.
        let capitals = name
            .as_str()
            .split(' ')
            .any(|w| w.chars().count() > 1 && !w.chars().any(char::is_lowercase) && w.chars().any(char::is_uppercase));
        let single = !name.as_str().contains(' ');
        let shaped = (!capitals || !text[m.start..m.end].chars().any(char::is_lowercase))
            && (!single || korean_name(name.as_str()));
        if !place && !headed_place && shaped && not_stopped(name.as_str()) {
            people.push(Match { kind: Kind::Person, start: from + name.start(), end: from + name.end() });
        }
    }
    if !people.is_empty() {
        kept.retain(|k| !people.iter().any(|p| k.kind == Kind::Person && k.start < p.end && k.end > p.start));
        kept.extend(people);
        kept.sort_by_key(|m| m.start);
    }
}

/// Units, floors and plots written before or after a street are part of its line (`Flat 6, 12
/// King Street`, `Via Roma 5, Piso 7`, `Plot 12 Adeola Close`, `… 20b, 2º 1ª`): an address grows
/// over them, unless another finding is there.
fn with_units(text: &str, kept: &mut [Match]) {
    static R: OnceLock<(Regex, Regex)> = OnceLock::new();
    let (before, after) = R.get_or_init(|| {
        // A unit word and its number or letter (`Apt. 4B`, `Flat No. 12`, `Unit B`, `#4B`), a floor
        // (`3rd Floor`, `2. OG`, `3º Izq.`, `2º 1ª`), a floor or flat word and a number.
        let unit = r"(?:(?i:apt|apartment|appartement|appt|app|apto|ap|dto|квартира|lokal|conj|tower|office|suite|ste|unit|flat|floor|fl|door|tür|porte|سوئیت|سويت|شقة|ফ্ল্যাট|অ্যাপার্টমেন্ট|फ्लैट|block|blk|bl|bloque|bldg|building|bât|bâtiment|bat|lok|byt|эт|daire|kat|oficina|of|nyumba|پلاک|طبقه|واحد|top|wohnung|whg|stiege|stg|piso|puerta|pta|portal|depto|dpto|dept|andar|étage|etage|esc|escalera|interior|int|interno|scala|sc|piano|kv|кв|корп|стр|оф|lgh|bus|plot|lot|lote|lt|mz|manzana|studio|shop|edif|edificio|bloco|casa|sala|level|lvl|room|rm|rd|tür|haus)\.?\s?(?:(?i:no|nr|n°|nº)\.?\s?|#)?(?:\d{1,3}\.\d{2}\b|\d{1,5}[A-Za-z]?(?:[/-](?:\d{1,4}|[A-Z]\b))?(?:/(?i:top)\s?\d{1,4})?|[A-Z]\b)|m\.\s?\d{1,4}\b|#\d{1,5}[A-Za-z]?(?:-\d{1,4})?|\d{1,2}/F\b|\d{1,2}(?:st|nd|rd|th|e|er|ère|ème|eme)\s(?i:floor|fl|étage|etage)\.?|\d{1,2}\s?tr\b|(?i:ground|first|second|third|top)\s(?i:floor)|\d{1,2}\.\s?(?:OG|Stock|Etage|étage|tv\.?|th\.?|mf\.?|sal)|EG|\d{1,2}\.?[º°ª](?:\s?\d{1,2}\.?[ºª]|\s?(?:[A-Z]|(?i:izq|izda|dcha|dcho|centro|ctro|esq|dto|fte|frente))\b\.?)?(?:\s(?i:andar|piso|planta))?|(?i:bajo|ático|atico|entlo|entresuelo|pral)\b\.?|(?i:pb)(?:\s?\d{1,3})?\b|(?i:διαμ|διαμέρισμα|דירה|קומה)\.?\s?\d{1,4}|\d{1,2}(?:ος|ης|ο)\s(?i:όροφος)|\d{1,3}동(?:\s\d{1,5}호)?|\d{1,5}호|(?:지하\s?)?\d{1,3}층|(?i:floor|piso|étage|etage)\s\d{1,2}|(?i:izq|izda|izqda|dcha|dcho|dch|ctro|andar|planta|esq|dto|fte)\b\.?)";
        let bare = r"(?i:(?:plot|house|door|h|d|flat|shop|nyumba)\.?\s?(?:no|nr|n°|nº|namba|nambari)\.?\s?|(?:plot|lot|house|erf|stand|no|nr|nyumba)\.?\s)";
        let building = r"(?:\p{Lu}[\p{L}'.-]*\s){1,3}(?i:apartments|residency|residences|towers|tower|complex|mansions?|condominium|condo|enclave|plaza|heights|court|house|building)(?:\s\d{1,3}[A-Z]?)?,\s";
        let floor = r"(?:\d{1,2}(?:st|nd|rd|th)\s(?i:floor)|(?i:unit|suite|flat|apt|room|rm|blk|block)\.?\s?\d{1,5}[A-Z]?(?:\s(?i:lot)\s?\d{1,3})?|B\d{1,3}\sL\d{1,3})(?:\s\p{Lu}[\p{L}\p{M}'.-]*|\s\d{1,3}[A-Z]?){0,5},\s";
        (
            // A plot's or house's word straight before the number (`Plot 12 Adeola Close`, `H.No. 12`);
            // a building or estate after a floor or unit (`27th Floor Freeman Residences 7, 9953 Dominguez
            // Drive`, `Flat 3 Rose Court, 5 High St`, `B04 L78 Mariveles Subdivision Phase 9, …`), a named
            // building (`Flat 3B, Sunrise Apartments, 12 MG Road`).
            Regex::new(&format!(r#"(?:^|[\s,;:>(|"'])((?:{unit},?\s+)*(?:{bare}|{building}|{floor})?)$"#))
                .expect("built-in pattern"),
            Regex::new(&format!(r"^(?:\s*[,،]?\s+{unit})+")).expect("built-in pattern"),
        )
    });
    let boundary = |mut i: usize, down: bool| {
        while !text.is_char_boundary(i) {
            if down { i -= 1 } else { i += 1 }
        }
        i
    };
    for i in 0..kept.len() {
        if kept[i].kind != Kind::Address {
            continue;
        }
        // A building found as an address of its own before its street (`27th Floor Freeman
        // Residences 7, 9953 Dominguez Drive`): the street line is both.
        if i > 0
            && kept[i - 1].kind == Kind::Address
            && text[kept[i - 1].end..kept[i].start].starts_with(", ")
            && before
                .captures(&text[kept[i - 1].start..kept[i].start])
                .and_then(|c| c.get(1))
                .is_some_and(|c| c.start() == 0)
        {
            kept[i].start = kept[i - 1].start;
            kept[i - 1].end = kept[i - 1].start;
        }
        // A unit found as an address of its own after its street (`Travessa Sandro Mendes, 47, 6.º
        // Dto.`): the street's line takes it.
        if i > 0
            && kept[i - 1].kind == Kind::Address
            && kept[i - 1].end < kept[i].start
            && text[kept[i - 1].end..kept[i].start].trim_end() == ","
            && let Some(m) = after.find(&text[kept[i - 1].end..kept.get(i + 1).map_or(text.len(), |n| n.start)])
            && kept[i - 1].end + m.end() >= kept[i].end
        {
            kept[i - 1].end += m.end();
            kept[i].start = kept[i - 1].end;
            kept[i].end = kept[i - 1].end;
            continue;
        }
        let (lo, hi) = (if i > 0 { kept[i - 1].end } else { 0 }, kept.get(i + 1).map_or(text.len(), |m| m.start));
        let from = boundary(kept[i].start.saturating_sub(80).max(lo), false);
        if let Some(c) = before.captures(&text[from..kept[i].start]).and_then(|c| c.get(1))
            && !c.is_empty()
        {
            kept[i].start = from + c.start();
        }
        let to = boundary((kept[i].end + 80).min(hi), true);
        if let Some(m) = after.find(&text[kept[i].end..to])
            && !text[kept[i].end + m.end()..].starts_with(char::is_alphanumeric)
        {
            kept[i].end += m.end();
        }
    }
}

/// `text` with every sensitive value replaced by its kind's unnumbered placeholder (`<EMAIL>`).
/// Stateless, so a value is masked the same way in every request of a live capture; a JSON text
/// is scanned value by value with its keys, as promotion does.
pub fn mask(text: &str) -> String {
    Redactor { unnumbered: true, ..Redactor::default() }.text("", text)
}

/// Replaces values with placeholders, the same value always with the same placeholder, and
/// collects findings by location.
#[derive(Default)]
pub struct Redactor {
    placeholders: HashMap<(Kind, String), String>,
    counters: HashMap<Kind, usize>,
    findings: BTreeMap<(String, Kind), usize>,
    /// Every replacement made, in order, so a JSON text can be patched in place.
    replaced: Vec<(String, String)>,
    /// Placeholders without numbers (`<EMAIL>`), for masking that keeps no state.
    unnumbered: bool,
}

impl Redactor {
    /// Redact a text. A text that is a JSON document (tool arguments, a JSON tool output) is
    /// scanned value by value, so escapes cannot hide or distort a value and a secret under a
    /// key like `"password"` is found; its formatting is kept.
    pub fn text(&mut self, location: &str, text: &str) -> String {
        self.redacted(location, text, None).unwrap_or_else(|| text.to_string())
    }

    /// The redacted text, or `None` when nothing was found (no copy made). A JSON value is
    /// scanned after its key (`date_of_birth: 1980-01-02`), since the key is its context.
    fn redacted(&mut self, location: &str, text: &str, key: Option<&str>) -> Option<String> {
        let t = text.trim_start();
        if (t.starts_with('{') || t.starts_with('['))
            && let Ok(mut doc) = serde_json::from_str::<Value>(text)
        {
            let from = self.replaced.len();
            self.value(location, &mut doc);
            return (self.replaced.len() > from).then(|| self.patch_json(text, &doc, from));
        }
        let matches = match key {
            None => scan(text),
            Some(key) => {
                let lead = key.len() + 2;
                let keyed = scan(&format!("{key}: {text}"));
                let shift = |m: Match| Match { start: m.start - lead, end: m.end - lead, ..m };
                keyed.into_iter().filter(|m| m.start >= lead).map(shift).collect()
            }
        };
        if matches.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for m in matches {
            out.push_str(&text[last..m.start]);
            out.push_str(&self.replace(location, m.kind, &text[m.start..m.end]));
            last = m.end;
        }
        out.push_str(&text[last..]);
        Some(out)
    }

    /// The placeholder for a value, numbered on first sight, counted as a finding at `location`.
    fn replace(&mut self, location: &str, kind: Kind, value: &str) -> String {
        let key = (kind, value.to_string());
        let placeholder = match self.placeholders.get(&key) {
            _ if self.unnumbered => format!("<{}>", kind.placeholder()),
            Some(p) => p.clone(),
            None => {
                let n = self.counters.entry(kind).or_insert(0);
                *n += 1;
                let p = format!("<{}_{}>", kind.placeholder(), n);
                self.placeholders.insert(key, p.clone());
                p
            }
        };
        *self.findings.entry((location.to_string(), kind)).or_insert(0) += 1;
        self.replaced.push((value.to_string(), placeholder.clone()));
        placeholder
    }

    /// Apply the replacements made since `from` to the original JSON text, each value in its
    /// JSON-escaped spelling; when a spelling is not found verbatim, write the redacted document.
    fn patch_json(&self, text: &str, doc: &Value, from: usize) -> String {
        let mut out = text.to_string();
        for (value, placeholder) in &self.replaced[from..] {
            let quoted = serde_json::to_string(value).expect("strings serialize");
            let escaped = &quoted[1..quoted.len() - 1];
            if !out.contains(escaped) {
                return serde_json::to_string(doc).expect("JSON values serialize");
            }
            out = out.replace(escaped, placeholder);
        }
        out
    }

    pub fn in_place(&mut self, location: &str, text: &mut String) {
        if let Some(r) = self.redacted(location, text, None) {
            *text = r;
        }
    }

    /// Redact every string inside a JSON value; locations extend `location` with keys and indices.
    pub fn value(&mut self, location: &str, v: &mut Value) {
        self.walk(&mut location.to_string(), None, v);
    }

    /// `value` with one growing location buffer: large cases have many small values.
    fn walk(&mut self, at: &mut String, key: Option<&str>, v: &mut Value) {
        let len = at.len();
        match v {
            Value::String(s) => {
                if let Some(r) = self.redacted(at, s, key) {
                    *s = r;
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter_mut().enumerate() {
                    at.push_str(&format!("[{i}]"));
                    self.walk(at, key, x);
                    at.truncate(len);
                }
            }
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    at.push('.');
                    at.push_str(k);
                    match x {
                        Value::String(s) if secret_value(k, s) => {
                            *s = self.replace(at, Kind::Secret, s);
                        }
                        _ => self.walk(at, Some(k), x),
                    }
                    at.truncate(len);
                }
            }
            _ => {}
        }
    }

    pub fn findings(self) -> Vec<Finding> {
        self.findings.into_iter().map(|((location, kind), count)| Finding { kind, location, count }).collect()
    }
}

/// `<EMAIL_1>`: already redacted.
fn is_placeholder(s: &str) -> bool {
    s.strip_prefix('<').and_then(|s| s.strip_suffix('>')).and_then(|s| s.rsplit_once('_')).is_some_and(|(k, n)| {
        k.chars().all(|c| c.is_ascii_uppercase() || c == '_') && n.chars().all(|c| c.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kinds(text: &str) -> Vec<Kind> {
        scan(text).into_iter().map(|m| m.kind).collect()
    }

    /// Numbers that travel with a street address: post codes, house numbers and their ranges,
    /// plots, boxes, coordinates, order numbers. None is a phone number unless a phone cue names it.
    #[test]
    fn numbers_of_an_address_are_no_phone() {
        let mut wrong = Vec::new();
        for text in [
            "Rua Augusta, 1500 - Consolação, São Paulo - SP, 05435-000",
            "Av. Paulista 1578, 01310-200 São Paulo",
            "Rua da Prata 123 1100-052 Lisboa",
            "ul. Marszałkowska 12/34 00-950 Warszawa",
            "Storgatan 123 114 55 Stockholm",
            "Vinohradská 1234/56 110 00 Praha 2",
            "Ερμού 123 105 57 Αθήνα",
            "Teheran-ro 152-1 06236 Seoul",
            "Prinsengracht 263-267 1016 GV Amsterdam",
            "Plot 12-34 560001 Bengaluru",
            "〒150-0002 東京都渋谷区渋谷2-21-1",
            "45 Elm St, Boston, MA 02134-1234",
            "Block 12-34 Jurong West 640 123",
            "Calle 45 # 12-34, Bogotá 110111",
            "PO Box 1234 00100 Nairobi",
            "Ruta 5 Km 1234.5, Santiago",
            "Pin: 13.7563 100.5018 (Bangkok)",
            "geometry: -33.867 151.195, Sydney NSW 2000",
            "Shipment 1234 5678 9012 to 12 Baker Street, London",
            "خیابان آزادی، پلاک ۱۲، کد پستی ۱۳۱۴۵-۷۸۴۰۰",
            "Hauptstraße 12-14 01067 Dresden",
            "Rua Harmonia 123 05435-000 São Paulo",
            "05435-000 São Paulo, Rua Harmonia 123",
            "Sector 12 560 001 Noida",
            "테헤란로 152-1 06236 서울",
            "Hauptstraße 5, 10115 Berlin, Mo-Fr 08.00-18.00 Uhr",
            "Jl. Sudirman 12, buka 09.00-21.00 WIB",
            "Km 12.5 Carretera Federal 200, 2024-05-12 14:30",
            "Bestellnummer 1234 5678 90, Lieferung an Hauptstraße 5",
            "Sendungsnr 3401 2345 6789 für Storgatan 12",
        ] {
            if kinds(text).contains(&Kind::Phone) {
                wrong.push(format!("false phone: {text}"));
            }
        }
        for text in [
            "Musterstraße 5, 10115 Berlin\nTel. +49 30 1234567",
            "Av. Corrientes 1234, C1043 CABA, tel (011) 4567-8901",
            "Rua Augusta 1500, 01304-001 São Paulo, fone (11) 3456-7890",
            "12 Baker Street, London NW1 6XE, 020 7946 0958",
            "Storgatan 12, 114 55 Stockholm, telefon 08-123 456 78",
            "Ann Lee 415 555 2671 Sales",
            "Mette Holm 22 33 44 55 Aarhus",
            "Teheran-ro 152, Seoul, 전화 02 1234 5678",
            "Hauptstraße 5, Telefonnummer 030 1234567",
            "Rufnummer 0171 2345678 (Zentrale, Hauptstraße 5)",
            "Kontaktnummer 089 1234 5678",
        ] {
            if !kinds(text).contains(&Kind::Phone) {
                wrong.push(format!("missed phone: {text}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn finds_each_kind() {
        assert_eq!(kinds("mail jane.doe@example.co.uk now"), vec![Kind::Email]);
        assert_eq!(kinds("call +1 415 555 2671 or (415) 555-2671"), vec![Kind::Phone, Kind::Phone]);
        assert_eq!(kinds("card 4111 1111 1111 1111 ok"), vec![Kind::Card]);
        assert_eq!(kinds("key sk-proj-abcdefghijklmnopqrstuvwxyz012345"), vec![Kind::ApiKey]);
        assert_eq!(kinds("AKIAZ3MPL4QK7RTW2Q9X"), vec![Kind::ApiKey]);
        // AWS's documented example key is no finding.
        assert!(kinds("AKIAIOSFODNN7EXAMPLE").is_empty());
        assert_eq!(kinds("password: Xk9#mP2$vL8q"), vec![Kind::Secret]);
    }

    /// The whole value, as a placeholder must cover it.
    fn found(text: &str) -> Vec<(Kind, &str)> {
        scan(text).into_iter().map(|m| (m.kind, &text[m.start..m.end])).collect()
    }

    #[test]
    fn credentials_in_other_syntaxes() {
        // camelCase and glued names, `=>`, XML, `is`, other languages, any scheme.
        for (text, value) in [
            ("dbPassword: Summer2024!", "Summer2024!"),
            ("set CLIENTSECRET=6sqvR0w4BJ6HF3G3u/sgarm", "6sqvR0w4BJ6HF3G3u/sgarm"),
            ("'apiKey' => 'mFQVfb1E4OxEMBU6lyMp',", "mFQVfb1E4OxEMBU6lyMp"),
            ("<smtp_pass>nUZvcF16GZb#n$</smtp_pass>", "nUZvcF16GZb#n$"),
            ("my password is Mar1anne!", "Mar1anne!"),
            ("contraseña: uDU?onj5hcUb", "uDU?onj5hcUb"),
            ("Authorization: Token 2cab948f9a179bbd821f", "2cab948f9a179bbd821f"),
            ("redis://:Berlin%232021@cache-2:6379/0", "Berlin%232021"),
        ] {
            assert_eq!(found(text), vec![(Kind::Secret, value)], "{text}");
        }
        // A quoted value is whole, whatever it holds; a name in angle brackets is a template.
        assert_eq!(found(r#"DB_PASS: 'B3bs3TiZ(r<jc&'"#), vec![(Kind::Secret, "B3bs3TiZ(r<jc&")]);
        assert!(found("password: '<your-password>'").is_empty());
    }

    #[test]
    fn streets_of_more_languages() {
        for text in [
            "Brīvības iela 12",
            "Atatürk caddesi 5",
            "266 North Road",
            "No. 8, Jln Hang Tuah 6/33N",
            "House No. 81, NasirKhali",
            "ул. Масоха 22-27",
            "Williamstræti 16",
        ] {
            assert_eq!(found(&format!("Ship to {text}, please")), vec![(Kind::Address, text)], "{text}");
        }
        assert_eq!(found("shipping_address=Davor 308"), vec![(Kind::Address, "Davor 308")]);
    }

    #[test]
    fn an_address_after_a_cue_is_the_whole_field() {
        for (text, address) in [
            ("Address: провулок Ветеранів праці, буд. 190 кв. 3", "провулок Ветеранів праці, буд. 190 кв. 3"),
            ("Send the invoice to calle del Arham 13-11, 2nd floor, thanks", "calle del Arham 13-11, 2nd floor"),
            ("I moved to Villestræde 39B in May.", "Villestræde 39B"),
            ("shipping_address=Piliskereszti utca 22.", "Piliskereszti utca 22."),
            (
                "Lieferadresse: Circunvalación Sonora 796 Edif. 703 , Depto. 812",
                "Circunvalación Sonora 796 Edif. 703 , Depto. 812",
            ),
            ("I live at 부산광역시 노원구 잠실가 928 (예준김박리)", "부산광역시 노원구 잠실가 928 (예준김박리)"),
            ("Ship to კაზარიანი tér, please", "კაზარიანი tér"),
            ("Address:\nRaisallé 89\n3558 Lyon", "Raisallé 89"),
        ] {
            assert_eq!(found(text), vec![(Kind::Address, address)], "{text}");
        }
        // The addressee before the comma stays a name.
        assert_eq!(
            found("Ship to Anna Berg, 12 Baker Street"),
            vec![(Kind::Person, "Anna Berg"), (Kind::Address, "12 Baker Street")]
        );
        // Lists without a cue: each street by its form, in scripts without capitals too.
        assert_eq!(
            found(r#"["66/8 송 Way", "이körút 38/5"]"#),
            vec![(Kind::Address, "66/8 송 Way"), (Kind::Address, "이körút 38/5")]
        );
        for text in [
            "We will address the 3 open issues by Friday",
            "Address line 2 is optional",
            "the address field is required (max 80 chars)",
            "MAC address 00:1B:44:11:3A:B7",
            "IP address 10.0.0.0/8 is private",
            "address: Ticket 4521",
            "Mr Smith? no, the Smith Street office",
            "We ship to 40 countries",
            "I moved to Berlin 2 years ago",
            "Street Fighter 2 is on sale",
            "address 3 issues first",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn addresses_without_a_cue() {
        fn address(text: &str) -> Vec<&str> {
            scan(text).into_iter().filter(|m| m.kind == Kind::Address).map(|m| &text[m.start..m.end]).collect()
        }
        for (text, want) in [
            // Structured keys.
            (r#"{"addressLine1": "Poljeweg 61", "postalCode": "5515"}"#, vec!["Poljeweg 61"]),
            (r#"{"street1": "Davor 4c", "zip": "28930"}"#, vec!["Davor 4c"]),
            (r#"{"location": "Opletalova 3", "city": "Praha"}"#, vec!["Opletalova 3"]),
            // A table whose header names the street column.
            ("id,name,street,city\n7,Ann Lee,Na pažiti 76,Brno", vec!["Na pažiti 76"]),
            // The line over a post code and city, and the part before `, post code city`.
            ("Kind regards,\nLotte Jessen\nKnudsenkollen 88\n0573 Oslo", vec!["Knudsenkollen 88"]),
            ("Lotte Jessen | Jabukovac 86, 10000 Zagreb", vec!["Jabukovac 86"]),
            // A list item beside an address.
            ("Branches: Antonia Allee 70/20; Davor 4c", vec!["Antonia Allee 70/20", "Davor 4c"]),
            // Phrases of living and meeting in other languages, street types and digits of other scripts.
            ("Bor på Jabukovac 86", vec!["Jabukovac 86"]),
            ("Ich wohne jetzt in der Davor 4c", vec!["Davor 4c"]),
            ("J'habite au Πάτμου 31 depuis mars.", vec!["Πάτμου 31"]),
            ("Abito in Máchova 28 da due anni.", vec!["Máchova 28"]),
            ("خیابان آزادی، پلاک ۱۲", vec!["خیابان آزادی، پلاک ۱۲"]),
            ("we are at ১২ মিরপুর রোড now", vec!["১২ মিরপুর রোড"]),
            ("Mtaa wa Uhuru 12", vec!["Mtaa wa Uhuru 12"]),
            ("my parents' place is 31/1 Lordelo Blvd, 3º B", vec!["31/1 Lordelo Blvd, 3º B"]),
            ("[route] stop 3/7: 33-7, place Orla, piso 2 (eta 14:20)", vec!["33-7, place Orla, piso 2"]),
        ] {
            assert_eq!(address(text), want, "{text}");
        }
        for text in [
            "Galaxy S24 Ultra, 512 GB",
            "iPhone 15 Pro Max in Blue Titanium",
            "Route 66 diner reviews are in",
            "Build 12 passed on main",
            "Room for 4 people, Wi-Fi included",
            "v3.2 Street View API",
            "Top 5 Hiking Trails",
            "Green Bay 24, Chicago 17",
            "Windows 11 Home Edition",
            "Name,Street Address,City",
            "12 March 2024 at 10:30",
            "Paid 250 EUR on 4 April",
            "- Windows 11\n- Python 3.12",
            "in that location 5 times",
            "meet me at noon",
            "Platform 4 for the Express",
        ] {
            assert!(address(text).is_empty(), "{text}: {:?}", address(text));
        }
    }

    fn addresses(text: &str) -> Vec<&str> {
        scan(text).into_iter().filter(|m| m.kind == Kind::Address).map(|m| &text[m.start..m.end]).collect()
    }

    #[test]
    fn street_types_of_more_languages_and_scripts() {
        for (text, want) in [
            ("The shop on Triq il-Kbira 45 opens at 9", "Triq il-Kbira 45"),
            ("the pickup point is Jr. Cusco 120 in Lima", "Jr. Cusco 120"),
            ("Nos vemos en Vial Lino Moliner 94 a las ocho", "Vial Lino Moliner 94"),
            ("WARN delivery failed at R. do Evaristo, 78: nobody home", "R. do Evaristo, 78"),
            ("من الان در 27751 محمد پور دره هستم", "27751 محمد پور دره"),
            // Arabic and Persian write the same type with another yeh.
            ("فردا صبح بیا 561 محمدعلي میدان سوئیت 590.", "561 محمدعلي میدان سوئیت 590"),
            ("המשלוח לרחוב דיזנגוף 50, תל אביב", "לרחוב דיזנגוף 50"),
            ("Levering til Strandvejen 100, 2900 Hellerup", "Strandvejen 100"),
            (
                "customer,address_line_1,postcode\nViktor Schrempf,площа Пересипська 8-ма буд. 477,3092",
                "площа Пересипська 8-ма буд. 477",
            ),
            ("Paki-iwan sa 2794-F Sierra Madre Drive, Level 5, salamat!", "2794-F Sierra Madre Drive, Level 5"),
            ("we're the house on the corner, Klaus-D.-Beer-Weg 2-4, ring twice", "Klaus-D.-Beer-Weg 2-4"),
            ("Doručení na Školní 3, Praha", "Školní 3"),
            ("Rua Augusta 100, 2º Esq", "Rua Augusta 100, 2º Esq"),
            ("حي النزهة، شارع 15، مبنى 7", "شارع 15، مبنى 7"),
            ("فيلا 23، شارع الجامعة", "فيلا 23، شارع الجامعة"),
            ("Αρχιεπισκόπου Κυπριανού 5, Λεμεσός", "Αρχιεπισκόπου Κυπριανού 5"),
        ] {
            assert_eq!(addresses(text), vec![want], "{text}");
        }
        // Look-alikes: a count after a type-first name, a counting word, an adjective before a count.
        for text in
            ["Avenue Q tickets, 2 seats, row 12", "Via Ferrata Grade 3", "Alaska 5 days", "Level 2 Car Park is full"]
        {
            assert!(addresses(text).is_empty(), "{text}: {:?}", addresses(text));
        }
    }

    #[test]
    fn streets_in_scripts_without_capitals() {
        for (text, want) in [
            // A house number and names, ending before a postposition.
            ("मैं अभी 91/300 सावित्री पवार पर हूँ, नीले गेट वाला घर।", "91/300 सावित्री पवार"),
            ("நான் இப்போது 3448 இசைக்கலை ஆஞ்சனேயா இல் இருக்கிறேன்", "3448 இசைக்கலை ஆஞ்சனேயா"),
            ("कल सुबह 3 तारा सिंह, Unit 11B पर आ जाना।", "3 तारा सिंह, Unit 11B"),
            // A numbered house in Bengali.
            ("কাল সকালে বাড়ী নং ৭, হাজীসড়ক এ চলে আসুন।", "বাড়ী নং ৭, হাজীসড়ক"),
            // A name and a type with no number.
            ("म अहिले शर्मा कुना मा छु, निलो ढोकाको छेउमा।", "शर्मा कुना"),
            ("> Sent from the office\n> अग्रवाल पथ\n> काठमाडौं 22557", "अग्रवाल पथ"),
            // Chinese and Japanese forms.
            ("请寄到人民路128号，谢谢", "人民路128号"),
            ("配送先は丸の内1丁目2番3号です", "丸の内1丁目2番3号"),
            ("王街3栋", "王街3栋"),
        ] {
            assert_eq!(addresses(text), vec![want], "{text}");
        }
        // Counts, dates and years are no streets.
        for text in [
            "मैंने 3 सेब खरीदे",
            "हम 2024 में मिले थे",
            "اشتريت 3 كتب جديدة",
            "۱۴ مرداد ۱۴۰۲",
            "मैं बाजार में हूँ",
            "会议在2024年3月5号",
        ] {
            assert!(addresses(text).is_empty(), "{text}: {:?}", addresses(text));
        }
    }

    #[test]
    fn address_fields_under_more_labels() {
        for (text, want) in [
            ("Form submitted: [Street] 1441 तारा दास [City] पाकाला", "1441 तारा दास"),
            ("New address for account 51466: पोद्वार आश्रम", "पोद्वार आश्रम"),
            ("The customer says the delivery address should be 6 வள்ளுவன், not the old one.", "6 வள்ளுவன்"),
            ("Address line 1: पोखरेल कुना\nAddress line 2: Apartment 14\nCity: बुटवल", "पोखरेल कुना"),
            ("name;street;town\nAna;Ilica 242;Zagreb", "Ilica 242"),
            // Phrases of leaving, sending and waiting somewhere, and a remark in brackets after it.
            ("the driver left it at Kneza Miloša 10 instead of my flat", "Kneza Miloša 10"),
            ("we're outside Nowy Świat 15 now", "Nowy Świat 15"),
            ("Returned to sender: Kneza Miloša 10 (recipient unknown)", "Kneza Miloša 10"),
            // The word of more languages as a key, and form and table markup after a label.
            ("Naslov: Ilica 242", "Ilica 242"),
            ("Διεύθυνση: Ilica 242", "Ilica 242"),
            ("Address........: Ilica 242", "Ilica 242"),
            (r#"<input name="address1" value="Ilica 242">"#, "Ilica 242"),
            ("<dt>Address</dt><dd>Ilica 242</dd>", "Ilica 242"),
            ("| Address | Ilica 242 |", "Ilica 242"),
            // The line under a name in a signature.
            ("Kind regards,\nAna Novak\nIlica 242\nZagreb", "Ilica 242"),
            // Keys of where a ride or a parcel starts and ends.
            (r#"{"pickup": "Kneza Miloša 10", "fare": 12}"#, "Kneza Miloša 10"),
        ] {
            assert_eq!(addresses(text), vec![want], "{text}");
        }
        // A unit alone, a filler, and the addressee on its own line are no street.
        for text in [
            "Address line 2: Bldg 2, Rm 310",
            "Address: Not Provided",
            "Shipping address: Same As Billing",
            "waiting at Gate 12 for you",
            "Deliver to Gate 12",
            "sent to 3 customers",
            "Thanks,\nJohn Smith\nRoom 12",
        ] {
            assert!(addresses(text).is_empty(), "{text}: {:?}", addresses(text));
        }
        assert_eq!(addresses("Ship to\nAna Souza\nRua Harmonia 44"), vec!["Rua Harmonia 44"]);
        // A post code and town under a street are not another street.
        assert_eq!(addresses("Deliver to:\n  3533 Dapdap Drive\n  9746 Katie Ville"), vec!["3533 Dapdap Drive"]);
    }

    /// Numbers a word names as something else, amounts and quantities, dates with spaces and the
    /// tails of longer numbers are no phone numbers; a phone word beside them wins.
    #[test]
    fn numbers_named_or_measured_are_no_phone() {
        let mut wrong = Vec::new();
        for text in [
            "Reservation number 2210 448 901 for two nights",
            "Numéro de commande : 12 345 678 90",
            "Nº de pedido 481 220 937",
            "Policy no. 554-210-7781 renewed",
            "S/N 4410-2291-7730",
            "Sort code 20 45 77, BLZ 100 700 24",
            "routing 026009593, account 4402917733",
            "Population 12 441 870 in 2024",
            "Revenue 482 113 905 EUR this year",
            "Paid 1 250 000,50 zł on Monday",
            "R$ 12.345.678,90 em aberto",
            "took 512 884 209 ms",
            "Le 14 07 2026 à 10h00",
            "free 3 221 458 903 bytes",
            "build 10.0.22631.4460",
        ] {
            if kinds(text).contains(&Kind::Phone) {
                wrong.push(format!("false phone: {text}"));
            }
        }
        for text in [
            "Booking 2210 448 901, customer mobile 0612 345 678",
            "Numéro de téléphone du client : 01 42 68 53 00",
            "Order 4471-2209: call 020 7183 8750 after 6pm",
            "Заказ 5512, тел. 8 (812) 555-12-34",
        ] {
            if !kinds(text).contains(&Kind::Phone) {
                wrong.push(format!("missed phone: {text}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn passports_dates_of_birth_and_names_after_cues_of_more_languages() {
        assert_eq!(found("护照号码：E12345678"), [(Kind::Passport, "E12345678")]);
        assert_eq!(found("номер паспорта: 72 1234567"), [(Kind::Passport, "72 1234567")]);
        assert_eq!(found("inombolo yephasipoti: A25736351"), [(Kind::Passport, "A25736351")]);
        // A number after another document's word is no passport.
        assert_eq!(found("運転免許証番号: TK1234567"), []);
        assert_eq!(found("生年月日：1985年3月12日"), [(Kind::Dob, "1985年3月12日")]);
        assert_eq!(found("tarehe ya kuzaliwa 12 Machi 1985"), [(Kind::Dob, "12 Machi 1985")]);
        assert_eq!(found("تاریخ تولد: ۱۳۶۴/۱۲/۲۱"), [(Kind::Dob, "۱۳۶۴/۱۲/۲۱")]);
        assert_eq!(found(r#"{"dateOfBirth": "1985-03-12"}"#), [(Kind::Dob, "1985-03-12")]);
        // Other dates near other words are no date of birth.
        assert_eq!(found("有効期限 2030/05/01"), []);
        assert_eq!(found("дата выдачи: 01.02.2020"), []);
        for (text, name) in [
            ("王伟先生，您好", "王伟"),
            ("山本花子様", "山本花子"),
            ("이서준 고객님", "이서준"),
            ("السيد محمد العلي", "محمد العلي"),
            ("सुनीता शर्मा जी", "सुनीता शर्मा"),
            ("Sayın Ayşe Demir", "Ayşe Demir"),
            ("Bwana Juma Mwangi", "Juma Mwangi"),
            ("С уважением,\nИван Петров", "Иван Петров"),
            ("Kính gửi Nguyễn Văn An", "Nguyễn Văn An"),
            ("Amina Hassan will call you", "Amina Hassan"),
        ] {
            assert_eq!(found(text), [(Kind::Person, name)], "{text}");
        }
        for text in ["尊敬的先生/女士：", "担当者様へ", "고객님, 안녕하세요", "Our Travel Desk will call you"]
        {
            assert_eq!(found(text), [], "{text}");
        }
    }

    #[test]
    fn people_beside_a_street_of_their_record() {
        fn people(text: &str) -> Vec<&str> {
            scan(text).into_iter().filter(|m| m.kind == Kind::Person).map(|m| &text[m.start..m.end]).collect()
        }
        for (text, want) in [
            ("41871,Jolana Ježek,80/4 Lordelo Drive,Moravský Beroun", "Jolana Ježek"),
            ("9413,אבישג איבגי,Spörristrasse 63,סגולה", "אבישג איבגי"),
            ("<tr><td>Stanisław Pracz</td><td>Chêne-Bougeriespolku 99A</td></tr>", "Stanisław Pracz"),
            ("Kind regards,\nProf. Jano Steffensen\n472 Huff Parkways Apt. 912", "Prof. Jano Steffensen"),
            ("[booking] guest=ომარ ლეჟავა property=\"Apt 12, Praça Jolana, 119B\" nights=3", "ომარ ლეჟავა"),
            ("DELIVER TO:\nMARTA KOWALCZYK\nUL. DŁUGA 12\n00-238 WARSZAWA", "MARTA KOWALCZYK"),
            ("recipient;street\nJarmila Nováková;Husova 12", "Jarmila Nováková"),
            ("받는 분\n박지훈\n테헤란로 152", "박지훈"),
        ] {
            assert_eq!(people(text), vec![want], "{text}");
        }
        // A desk, a shop's column and a product's row are nobody.
        for text in [
            "Kind regards,\nFront Desk\n12 Baker Street",
            "| Store | Where |\n|---|---|\n| Targu Secuiesc | 141b Marcel Tce |",
            "Product,Version,Released\nPixel Watch,Gen 2,2022",
            "user: مرحبا كيف حالك اليوم",
        ] {
            assert!(people(text).is_empty(), "{text}: {:?}", people(text));
        }
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        assert!(scan("Sunny and 21C in Paris on 2026-11-21, order 12345").is_empty());
        assert!(scan("card 4111 1111 1111 1112 fails Luhn").is_empty());
        assert!(scan("password: redacted").is_empty());
    }

    #[test]
    fn placeholders_are_consistent_across_locations() {
        let mut r = Redactor::default();
        let a = r.text("input.items[0].content", "I am ann@x.org, cc bob@x.org");
        let mut args = json!({"to": "ann@x.org"});
        r.value("recorded.tool_outputs[0].arguments", &mut args);
        assert_eq!(a, "I am <EMAIL_1>, cc <EMAIL_2>");
        assert_eq!(args, json!({"to": "<EMAIL_1>"}));
        let f = r.findings();
        assert_eq!(f.len(), 2);
        assert_eq!(f.iter().map(|f| f.count).sum::<usize>(), 3);
        assert!(f.iter().all(|f| !f.location.contains('@')));
    }

    #[test]
    fn mask_is_stateless_and_typed() {
        let text = "mail ann@x.org, card 4111 1111 1111 1111, key sk-proj-abcdefghijklmnopqrstuvwxyz012345";
        assert_eq!(mask(text), "mail <EMAIL>, card <CARD>, key <API_KEY>");
        assert_eq!(mask(&mask(text)), mask(text));
        assert_eq!(mask("nothing here"), "nothing here");
    }

    #[test]
    fn checksummed_and_structured_kinds() {
        assert_eq!(kinds("IBAN DE89 3704 0044 0532 0130 00"), vec![Kind::Iban]);
        assert!(kinds("IBAN DE89 3704 0044 0532 0130 01").is_empty());
        assert_eq!(kinds("ssn 123-45-6789"), vec![Kind::Ssn]);
        assert_eq!(kinds("from 81.2.69.160 and 2001:db8::8a2e:370:7334"), vec![Kind::Ip, Kind::Ip]);
        assert!(kinds("at 12:30:45 on 127.0.0.1, v1.2.3.4").is_empty());
        assert_eq!(kinds("Authorization: Bearer abcDEF123456ghiJKL789"), vec![Kind::Secret]);
    }

    #[test]
    fn json_texts_are_scanned_value_by_value_and_keep_their_formatting() {
        let mut r = Redactor::default();
        let user = r.text("input", "I am ann@x.org");
        // `\n` before the address would glue an `n` onto it in a plain-text scan.
        let args = r.text("args", r#"{"note": "line\nann@x.org", "password": "Zq8#xL2!pW"}"#);
        assert_eq!(user, "I am <EMAIL_1>");
        assert_eq!(args, r#"{"note": "line\n<EMAIL_1>", "password": "<SECRET_1>"}"#);
        let f = r.findings();
        assert!(f.iter().any(|f| f.location == "args.password" && f.kind == Kind::Secret), "{f:?}");
        assert!(f.iter().any(|f| f.location == "args.note" && f.kind == Kind::Email), "{f:?}");
    }

    #[test]
    fn people_and_places_get_typed_placeholders() {
        let mut r = Redactor::default();
        let text = "Hi, I'm Anna Schmidt, born 1980-02-03, living at Hauptstraße 12; passport no. C01X00T47.";
        assert_eq!(
            r.text("t", text),
            "Hi, I'm <PERSON_1>, born <DOB_1>, living at <ADDRESS_1>; passport no. <PASSPORT_1>."
        );
        assert!(scan("Anna Schmidt GmbH opened a store on Victoria Street").iter().all(|m| m.kind != Kind::Person));
    }

    #[test]
    fn mask_reads_json_values_with_their_keys() {
        assert_eq!(
            mask(r#"{"password": "hunter2hunter2", "birth_date": "1980-02-03", "city": "Paris"}"#),
            r#"{"password": "<SECRET>", "birth_date": "<DOB>", "city": "Paris"}"#
        );
        assert_eq!(mask("postgres://app:Summer2024!@db/x"), "postgres://app:<SECRET>@db/x");
    }

    #[test]
    fn redaction_is_idempotent() {
        let mut r = Redactor::default();
        let once = r.text("x", "write to ann@x.org or +44 20 7946 0958");
        assert_eq!(Redactor::default().text("x", &once), once);
    }
}
