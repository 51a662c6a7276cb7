"""The language a family reads, from the guardian's SIS record.

SIS exports spell languages every way: "Spanish", "Español", "spa", "es-MX", Ed-Fi's
"uri://ed-fi.org/LanguageDescriptor#spa". Messages to families pick their template by a short
code, so the spelling is normalised here once. A language the SIS names but that has no code
below keeps its own name lowercased: it is still counted as a gap, never silently read as English.
"""

import re
import unicodedata

# ISO 639-1 code -> names and codes an SIS may use for it (compared lowercased, without accents).
_SPELLINGS = {
    "en": ["english", "eng", "ingles"],
    "es": ["spanish", "espanol", "castellano", "spa"],
    "vi": ["vietnamese", "tieng viet", "vie"],
    "zh": ["chinese", "mandarin", "cantonese", "zho", "chi", "cmn", "yue"],
    "ar": ["arabic", "ara"],
    "fr": ["french", "francais", "fre", "fra"],
    "ko": ["korean", "kor"],
    "ht": ["haitian creole", "haitian", "kreyol", "hat"],
    "pt": ["portuguese", "portugues", "por"],
    "ru": ["russian", "rus"],
    "hmn": ["hmong"],
    "so": ["somali", "som"],
    "sw": ["swahili", "swa"],
    "uk": ["ukrainian", "ukr"],
    "tl": ["tagalog", "filipino", "tgl", "fil"],
    "hi": ["hindi", "hin"],
    "ur": ["urdu", "urd"],
    "ne": ["nepali", "nep"],
    "my": ["burmese", "mya", "bur"],
    "ps": ["pashto", "pus"],
    "fa": ["farsi", "persian", "dari", "fas", "per", "prs"],
    "km": ["khmer", "cambodian", "khm"],
    "lo": ["lao", "laotian"],
    "ja": ["japanese", "jpn"],
    "de": ["german", "deutsch", "ger", "deu"],
    "gu": ["gujarati", "guj"],
    "te": ["telugu", "tel"],
    "am": ["amharic", "amh"],
    "ti": ["tigrinya", "tir"],
}
_BY_SPELLING = {spelling: code for code, spellings in _SPELLINGS.items() for spelling in [code, *spellings]}
ENGLISH = "en"


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().strip()
    return re.sub(r"\s+", " ", text)


def family_language(raw: str) -> str:
    """Short code for the language an SIS record names; English when it names none."""
    text = _plain(raw or "")
    if "#" in text:  # an Ed-Fi descriptor URI: the code value follows the '#'
        text = text.rsplit("#", 1)[1]
    if not text:
        return ENGLISH
    if text in _BY_SPELLING:
        return _BY_SPELLING[text]
    base = re.split(r"[-_ ]", text, maxsplit=1)[0]  # "es-MX", "zh_Hant", "spanish (mexico)"
    return _BY_SPELLING.get(base, text)
