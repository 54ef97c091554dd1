//! The Porter stemmer as nltk's `PorterStemmer()` runs it by default (its NLTK_EXTENSIONS
//! mode), for METEOR's stem stage: `ships` and `ship` are one word there.

/// Words nltk maps by hand before the algorithm runs.
const IRREGULAR: [(&str, &str); 16] = [
    ("sky", "sky"),
    ("skies", "sky"),
    ("dying", "die"),
    ("lying", "lie"),
    ("tying", "tie"),
    ("news", "news"),
    ("innings", "inning"),
    ("inning", "inning"),
    ("outings", "outing"),
    ("outing", "outing"),
    ("cannings", "canning"),
    ("canning", "canning"),
    ("howe", "howe"),
    ("proceed", "proceed"),
    ("exceed", "exceed"),
    ("succeed", "succeed"),
];

/// The stem of a lower-case word.
pub fn stem(word: &str) -> String {
    if let Some((_, s)) = IRREGULAR.iter().find(|(w, _)| *w == word) {
        return (*s).to_string();
    }
    let mut w: Vec<char> = word.to_lowercase().chars().collect();
    // nltk leaves words of one or two letters alone.
    if word.chars().count() <= 2 {
        return w.into_iter().collect();
    }
    step1a(&mut w);
    step1b(&mut w);
    step1c(&mut w);
    step2(&mut w);
    step3(&mut w);
    step4(&mut w);
    step5a(&mut w);
    step5b(&mut w);
    w.into_iter().collect()
}

fn consonant(w: &[char], i: usize) -> bool {
    match w[i] {
        'a' | 'e' | 'i' | 'o' | 'u' => false,
        // `y` is a consonant at the start or after a vowel.
        'y' => i == 0 || !consonant(w, i - 1),
        _ => true,
    }
}

/// Porter's m: how many vowel-consonant sequences the stem has.
fn measure(w: &[char]) -> usize {
    (1..w.len()).filter(|&i| consonant(w, i) && !consonant(w, i - 1)).count()
}

fn has_vowel(w: &[char]) -> bool {
    (0..w.len()).any(|i| !consonant(w, i))
}

fn double_consonant(w: &[char]) -> bool {
    let n = w.len();
    n >= 2 && w[n - 1] == w[n - 2] && consonant(w, n - 1)
}

/// Consonant-vowel-consonant at the end, the last not `w`, `x` or `y`; nltk also counts a
/// two-letter vowel-consonant stem.
fn cvc(w: &[char]) -> bool {
    let n = w.len();
    n >= 3 && consonant(w, n - 3) && !consonant(w, n - 2) && consonant(w, n - 1) && !matches!(w[n - 1], 'w' | 'x' | 'y')
        || n == 2 && !consonant(w, 0) && consonant(w, 1)
}

fn ends(w: &[char], suffix: &str) -> bool {
    let s: Vec<char> = suffix.chars().collect();
    w.len() >= s.len() && w[w.len() - s.len()..] == s[..]
}

fn replace(w: &mut Vec<char>, suffix: &str, with: &str) {
    w.truncate(w.len() - suffix.chars().count());
    w.extend(with.chars());
}

type Condition = fn(&[char]) -> bool;

/// The first rule whose suffix the word ends with decides: it applies when its condition holds
/// for the stem before the suffix, else the word stays.
fn rules(w: &mut Vec<char>, list: &[(&str, &str, Condition)]) {
    for (suffix, with, holds) in list {
        if ends(w, suffix) {
            let n = w.len() - suffix.chars().count();
            if holds(&w[..n]) {
                replace(w, suffix, with);
            }
            return;
        }
    }
}

fn positive(w: &[char]) -> bool {
    measure(w) > 0
}

fn above_one(w: &[char]) -> bool {
    measure(w) > 1
}

fn always(_: &[char]) -> bool {
    true
}

fn step1a(w: &mut Vec<char>) {
    if w.len() == 4 && ends(w, "ies") {
        replace(w, "ies", "ie");
        return;
    }
    rules(w, &[("sses", "ss", always), ("ies", "i", always), ("ss", "ss", always), ("s", "", always)]);
}

fn step1b(w: &mut Vec<char>) {
    if ends(w, "ied") {
        replace(w, "ied", if w.len() == 4 { "ie" } else { "i" });
        return;
    }
    if ends(w, "eed") {
        if positive(&w[..w.len() - 3]) {
            replace(w, "eed", "ee");
        }
        return;
    }
    let Some(suffix) = ["ed", "ing"].into_iter().find(|s| ends(w, s) && has_vowel(&w[..w.len() - s.len()])) else {
        return;
    };
    replace(w, suffix, "");
    if ends(w, "at") || ends(w, "bl") || ends(w, "iz") {
        w.push('e');
    } else if double_consonant(w) {
        if !matches!(w[w.len() - 1], 'l' | 's' | 'z') {
            w.pop();
        }
    } else if measure(w) == 1 && cvc(w) {
        w.push('e');
    }
}

fn step1c(w: &mut [char]) {
    let n = w.len();
    // nltk: `y` after a consonant that is not the first letter (`cry` → `cri`, `by` stays).
    if ends(w, "y") && n - 1 > 1 && consonant(w, n - 2) {
        w[n - 1] = 'i';
    }
}

fn step2(w: &mut Vec<char>) {
    if ends(w, "alli") && positive(&w[..w.len() - 4]) {
        replace(w, "alli", "al");
        return step2(w);
    }
    // nltk's `logi` rule measures the word without `ogi`, so the `l` counts.
    if ends(w, "logi") {
        if positive(&w[..w.len() - 3]) {
            replace(w, "logi", "log");
        }
        return;
    }
    rules(
        w,
        &[
            ("ational", "ate", positive),
            ("tional", "tion", positive),
            ("enci", "ence", positive),
            ("anci", "ance", positive),
            ("izer", "ize", positive),
            ("bli", "ble", positive),
            ("alli", "al", positive),
            ("entli", "ent", positive),
            ("eli", "e", positive),
            ("ousli", "ous", positive),
            ("ization", "ize", positive),
            ("ation", "ate", positive),
            ("ator", "ate", positive),
            ("alism", "al", positive),
            ("iveness", "ive", positive),
            ("fulness", "ful", positive),
            ("ousness", "ous", positive),
            ("aliti", "al", positive),
            ("iviti", "ive", positive),
            ("biliti", "ble", positive),
            ("fulli", "ful", positive),
        ],
    );
}

fn step3(w: &mut Vec<char>) {
    rules(
        w,
        &[
            ("icate", "ic", positive),
            ("ative", "", positive),
            ("alize", "al", positive),
            ("iciti", "ic", positive),
            ("ical", "ic", positive),
            ("ful", "", positive),
            ("ness", "", positive),
        ],
    );
}

fn step4(w: &mut Vec<char>) {
    rules(
        w,
        &[
            ("al", "", above_one),
            ("ance", "", above_one),
            ("ence", "", above_one),
            ("er", "", above_one),
            ("ic", "", above_one),
            ("able", "", above_one),
            ("ible", "", above_one),
            ("ant", "", above_one),
            ("ement", "", above_one),
            ("ment", "", above_one),
            ("ent", "", above_one),
            ("ion", "", |s| above_one(s) && matches!(s.last(), Some('s' | 't'))),
            ("ou", "", above_one),
            ("ism", "", above_one),
            ("ate", "", above_one),
            ("iti", "", above_one),
            ("ous", "", above_one),
            ("ive", "", above_one),
            ("ize", "", above_one),
        ],
    );
}

fn step5a(w: &mut Vec<char>) {
    if ends(w, "e") {
        let s = &w[..w.len() - 1];
        let m = measure(s);
        if m > 1 || m == 1 && !cvc(s) {
            w.pop();
        }
    }
}

fn step5b(w: &mut Vec<char>) {
    // The measure is of the word less one `l`.
    if ends(w, "ll") && above_one(&w[..w.len() - 1]) {
        w.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::stem;

    /// The textbook cases and nltk's own rules (`ties`, `dying`, `cried`, `analogi`), as nltk
    /// 3.9.1 stems them.
    #[test]
    fn stems_as_nltk_does() {
        for (word, want) in [
            ("ships", "ship"),
            ("ship", "ship"),
            ("caresses", "caress"),
            ("ponies", "poni"),
            ("ties", "tie"),
            ("cats", "cat"),
            ("agreed", "agre"),
            ("feed", "feed"),
            ("plastered", "plaster"),
            ("motoring", "motor"),
            ("sing", "sing"),
            ("conflated", "conflat"),
            ("troubled", "troubl"),
            ("sized", "size"),
            ("hopping", "hop"),
            ("falling", "fall"),
            ("hissing", "hiss"),
            ("filing", "file"),
            ("happy", "happi"),
            ("sky", "sky"),
            ("relational", "relat"),
            ("conditional", "condit"),
            ("generalizations", "gener"),
            ("hopefulness", "hope"),
            ("electrical", "electr"),
            ("adjustment", "adjust"),
            ("adoption", "adopt"),
            ("controlling", "control"),
            ("rolling", "roll"),
            ("dying", "die"),
            ("cried", "cri"),
            ("died", "die"),
            ("analogi", "analog"),
            ("running", "run"),
            ("approved", "approv"),
            ("by", "by"),
            ("café", "café"),
        ] {
            assert_eq!(stem(word), want, "{word}");
        }
    }

    /// nltk's stems of 1,938 WordNet words (scripts/reference-metrics.sh).
    #[test]
    fn stems_a_word_list_as_nltk_does() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/metrics/reference.json")).unwrap();
        let stems = fixture["stems"].as_object().unwrap();
        assert!(stems.len() > 1500);
        let wrong: Vec<String> = stems
            .iter()
            .filter(|(w, s)| stem(w) != s.as_str().unwrap())
            .map(|(w, s)| format!("{w}: {} (nltk {s})", stem(w)))
            .collect();
        assert!(wrong.is_empty(), "{wrong:?}");
    }
}
