"""English only, said and detected: Analysis.warnings from the cheap language check
(propdetect/_language.py) and how it travels."""

from __future__ import annotations

import pytest

import propdetect
from propdetect import Analysis
from propdetect._language import MIN_WORDS, english_shares, language_warnings
from tests.conftest import ROOT, SHARED_DATA

SEED = ROOT / "seeds" / "kursk-region.txt"

# Hand-written news paragraphs and sentences (ours, not copied): the languages most
# often met beside English, and one text in each of three other scripts.
FOREIGN = {
    "de": "Die Bundesregierung hat am Dienstag ein neues Sparpaket vorgestellt. Nach Angaben des Finanzministeriums "
          "sollen die Ausgaben im kommenden Jahr um zwölf Milliarden Euro sinken. Die Opposition kritisierte die Pläne "
          "scharf und warf der Koalition vor, die Lasten einseitig auf Familien und Rentner zu verteilen. Ein Sprecher "
          "sagte, man werde die Vorschläge in den nächsten Wochen mit den Ländern beraten.",
    "de, loaded": "Diese Verräter und Verbrecher zerstören unser großes Land! Die korrupte Elite lügt uns jeden Tag "
                  "an, und die Medien schweigen dazu. Wir dürfen uns das nicht länger gefallen lassen.",
    "fr": "Le gouvernement a présenté mardi un nouveau plan d'économies. Selon le ministère des Finances, les dépenses "
          "devraient baisser de douze milliards d'euros l'an prochain. L'opposition a vivement critiqué ce projet et "
          "reproche à la majorité de faire peser l'effort sur les familles et les retraités.",
    "es": "El Gobierno presentó el martes un nuevo plan de ahorro. Según el Ministerio de Hacienda, el gasto bajará "
          "doce mil millones de euros el próximo año. La oposición criticó duramente las medidas y acusó a la "
          "coalición de cargar el esfuerzo sobre las familias y los jubilados.",
    "ru": "Правительство во вторник представило новый план экономии. По данным Министерства финансов, расходы в "
          "следующем году сократятся на двенадцать миллиардов рублей. Оппозиция резко раскритиковала эти меры.",
    "it": "Il governo ha presentato martedì un nuovo piano di risparmi. Secondo il ministero dell'Economia, la spesa "
          "dovrebbe calare di dodici miliardi di euro il prossimo anno. L'opposizione ha criticato duramente le "
          "misure e accusa la maggioranza di scaricare lo sforzo sulle famiglie e sui pensionati.",
    "pt": "O governo apresentou na terça-feira um novo plano de poupança. Segundo o Ministério das Finanças, a "
          "despesa deve cair doze mil milhões de euros no próximo ano. A oposição criticou duramente as medidas e "
          "acusa a maioria de fazer recair o esforço sobre as famílias e os reformados.",
    "nl": "De regering heeft dinsdag een nieuw bezuinigingspakket gepresenteerd. Volgens het ministerie van Financiën "
          "moeten de uitgaven volgend jaar met twaalf miljard euro dalen. De oppositie had scherpe kritiek op de "
          "plannen en verwijt de coalitie dat zij de lasten op gezinnen en gepensioneerden legt.",
    "pl": "Rząd przedstawił we wtorek nowy plan oszczędności. Według Ministerstwa Finansów wydatki w przyszłym roku "
          "spadną o dwanaście miliardów złotych. Opozycja ostro skrytykowała te plany i zarzuca koalicji, że "
          "przerzuca ciężar na rodziny i emerytów.",
    "el": "Η κυβέρνηση παρουσίασε την Τρίτη ένα νέο σχέδιο εξοικονόμησης. Σύμφωνα με το υπουργείο Οικονομικών, οι "
          "δαπάνες θα μειωθούν κατά δώδεκα δισεκατομμύρια ευρώ.",
    "zh": "政府周二公布了一项新的节约计划。据财政部称，明年的支出将减少一百二十亿欧元。反对党严厉批评了这些措施。",
    "de, one sentence": "Die Regierung hat am Dienstag neue Maßnahmen gegen die Krise beschlossen.",
    "fr, one sentence": "Le président a annoncé une réforme des retraites qui divise le pays.",
    "es, one sentence": "El presidente anunció una reforma de las pensiones que divide al país.",
}

ENGLISH = [
    "The government presented a new savings plan on Tuesday. According to the finance ministry, spending is to "
    "fall by twelve billion euros next year. The opposition sharply criticised the plans.",
    "These traitors and thugs are destroying our great nation!",          # one loud sentence
    "Can we really trust what these so-called experts claim?",
    "Marine Le Pen met Ursula von der Leyen and the mayor of Los Angeles in Paris on Monday.",   # foreign names
    "Russian Forces Intensify Operations in Kursk Region, Targeting Foreign Mercenaries in Ukraine's Military",
    "See the video: pic.twitter.com/abc123 — John Smith (@jsmith) November 13, 2018. It was shared widely.",
]


def _not_english(warnings: tuple[str, ...]) -> bool:
    return len(warnings) == 1 and warnings[0].startswith("the text does not look like English")


@pytest.mark.parametrize("lang", sorted(FOREIGN))
def test_other_languages_get_a_warning(lang):
    assert _not_english(language_warnings(FOREIGN[lang])), english_shares(FOREIGN[lang])


@pytest.mark.parametrize("text", ENGLISH)
def test_english_gets_none(text):
    assert language_warnings(text) == (), english_shares(text)


def test_the_seed_gets_none():
    assert propdetect.detect(SEED.read_text(encoding="utf-8")).warnings == ()


@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_no_ptc_article_gets_a_warning(split):
    folder = SHARED_DATA / "ptc" / f"{split}-articles"
    if not folder.is_dir():
        pytest.skip(f"corpus not available: {folder}")
    warned = [p.name for p in sorted(folder.glob("article*.txt")) if language_warnings(p.read_text(encoding="utf-8"))]
    assert warned == []


@pytest.mark.parametrize("text, n", [("Traitors!", 1), ("Rain. Sun.", 2), ("Corrupt thugs run this evil regime!", 6),
                                     ("Вон!", 1)])
def test_too_short_to_judge(text, n):
    (w,) = language_warnings(text)
    assert w.startswith("the text is too short to tell whether it is English") and f"({n} word" in w
    assert n < MIN_WORDS


def test_long_texts_are_judged_on_a_sample(tmp_path):
    seed = SEED.read_text(encoding="utf-8")
    assert language_warnings(seed * 2000) == ()                       # 8 MB of English
    assert _not_english(language_warnings(FOREIGN["de"] * 2000))
    assert _not_english(language_warnings(FOREIGN["zh"] * 2000))      # no spaces to cut the sample at
    mixed = seed * 50 + FOREIGN["de"] * 3000                           # mostly German by length
    assert _not_english(language_warnings(mixed))


def test_detect_sets_warnings_and_they_travel(tiny_detector):
    german = FOREIGN["de, loaded"]
    a = tiny_detector.detect(german)
    assert _not_english(a.warnings) and a.sentences
    assert tiny_detector.detect("").warnings == ()                     # nothing to judge, nothing said
    d = a.to_dict()
    assert d["warnings"] == list(a.warnings)
    assert Analysis.from_dict(d) == a
    assert Analysis.from_dict({"sentences": []}).warnings == ()      # dicts written before 0.2
    texts = [german, ENGLISH[0], "Traitors!"]
    serial = [tiny_detector.detect(t) for t in texts]
    assert tiny_detector.detect_many(texts, n_jobs=2, batch_size=1) == serial   # through the workers
    assert [bool(x.warnings) for x in serial] == [True, False, True]


def test_warnings_are_a_tuple_of_str():
    assert Analysis((), ["x"]).warnings == ("x",)
    with pytest.raises(TypeError, match="not one str"):
        Analysis((), "x")  # type: ignore[arg-type]


# -- every output format says it -------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_model(tiny_detector, tmp_path_factory) -> str:
    return str(tiny_detector.save(tmp_path_factory.mktemp("model") / "tiny"))


@pytest.mark.parametrize("fmt", ["text", "jsonl", "csv", "html"])
def test_every_output_format_carries_the_warnings(fmt, tmp_path, capsys, tiny_model):
    import csv
    import io
    import json

    from propdetect.cli import main

    german, english = tmp_path / "de.txt", tmp_path / "en.txt"
    german.write_text(FOREIGN["de, loaded"], encoding="utf-8")
    english.write_text(ENGLISH[0], encoding="utf-8")
    assert main(["analyze", "--model", tiny_model, "--format", fmt, str(german), str(english)]) == 0
    out = capsys.readouterr().out
    warning = language_warnings(FOREIGN["de, loaded"])[0]
    if fmt == "jsonl":
        de, en = (json.loads(line) for line in out.splitlines())
        assert de["warnings"] == [warning] and en["warnings"] == []
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert {r["warnings"] for r in rows if r["source"] == str(german)} == {warning}
        assert {r["warnings"] for r in rows if r["source"] == str(english)} == {""}
    elif fmt == "text":
        de_block, en_block = out.split(f"== {english}")
        assert f"warning: {warning}" in de_block and "warning:" not in en_block
    else:
        from html import escape

        assert out.count('<p class="warning">') == 1 and escape(warning) in out


def test_jsonl_input_field_named_warnings_is_kept(tmp_path, capsys, tiny_model):
    import json

    from propdetect.cli import main

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": ENGLISH[0], "warnings": "from the input"}) + "\n", encoding="utf-8")
    assert main(["analyze", "--model", tiny_model, "--format", "jsonl", str(src)]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["warnings"] == [] and rec["input_warnings"] == "from the input"
