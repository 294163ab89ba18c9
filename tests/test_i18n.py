"""The six languages: choosing one, the catalogues' completeness, and how each writes dates,
numbers and the names of States."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import i18n
from domain.reference import load_reference
from i18n.catalogues import extract, gaps, source_files

ECE_INPUTS_DUE = datetime(2020, 10, 26, 23, 59, tzinfo=UTC)


def test_every_message_is_translated_in_every_language() -> None:
    """The missing-translation check: a message added to a page, a mail, a report or a form
    without its translation in Arabic, Chinese, French, Russian and Spanish fails here."""
    missing = gaps()
    assert not missing, "\n".join(map(str, missing[:50]))


@pytest.mark.parametrize("domain", i18n.DOMAINS)
def test_each_catalogue_has_its_files_and_messages(domain: str) -> None:
    assert source_files(domain), f"no file feeds the {domain} catalogue"
    assert len(extract(domain)) > 0


def test_a_file_feeds_one_catalogue_only() -> None:
    owners: dict[str, str] = {}
    for domain in i18n.DOMAINS:
        for path in source_files(domain):
            assert owners.setdefault(str(path), domain) == domain, path


@pytest.mark.parametrize(
    ("preference", "cookie", "header", "chosen"),
    [
        ("fr", "ar", "es", "fr"),  # the person's own choice first
        (None, "ar", "es", "ar"),  # then the language this browser switched to
        (None, None, "es-MX,es;q=0.9,en;q=0.8", "es"),
        (None, None, "de-CH, de;q=0.9, ru;q=0.5", "ru"),  # the best of the six on offer
        (None, None, "en;q=0.1, zh-Hans;q=0.9", "zh"),  # quality, not order, decides
        (None, None, "fr;q=0, ar", "ar"),  # q=0 means "not this one"
        (None, None, "fr;q=abc, ru", "ru"),  # a quality that is not a number is skipped
        (None, "xx", "*", "en"),
        (None, None, None, "en"),
        ("de", None, None, "en"),  # a language outside the six is no choice
    ],
)
def test_the_language_is_the_persons_then_the_browsers_then_english(
    preference: str | None, cookie: str | None, header: str | None, chosen: str
) -> None:
    assert i18n.negotiate(preference, cookie, accept_language=header) == chosen


def test_a_huge_accept_language_costs_a_bounded_amount_of_work() -> None:
    header = ",".join(["xx;q=0.5"] * 200_000) + ",fr"
    assert i18n.negotiate(accept_language=header) == "en"  # cut before the end, never parsed


@pytest.mark.parametrize(
    ("code", "deadline"),
    [
        ("en", "27 October 2020, 00:59 CET (26 October 2020, 23:59 UTC)"),
        ("fr", "27 octobre 2020, 00:59 CET (26 octobre 2020, 23:59 UTC)"),
        ("es", "27 de octubre de 2020, 0:59 CET (26 de octubre de 2020, 23:59 UTC)"),
        ("ru", "27 октября 2020\u202fг., 00:59 CET (26 октября 2020\u202fг., 23:59 UTC)"),
        ("zh", "2020年10月27日 00:59 CET (2020年10月26日 23:59 UTC)"),
    ],
)
def test_a_deadline_is_written_as_the_language_writes_it_with_utc_beside(
    code: str, deadline: str
) -> None:
    with i18n.using(code):
        assert i18n.format_deadline(ECE_INPUTS_DUE, "Europe/Zurich") == deadline


def test_arabic_is_right_to_left_and_writes_its_own_month_names() -> None:
    with i18n.using("ar") as arabic:
        assert arabic.direction == "rtl"
        assert "أكتوبر" in i18n.format_datetime(ECE_INPUTS_DUE, "UTC")
    assert all(i18n.language(code).direction == "ltr" for code in ("zh", "en", "fr", "ru", "es"))


@pytest.mark.parametrize(
    ("code", "germany", "number"),
    [
        ("en", "Germany", "12,345"),
        ("fr", "Allemagne", "12\u202f345"),
        ("es", "Alemania", "12.345"),
        ("ru", "Германия", "12\xa0345"),
        ("zh", "德国", "12,345"),
        ("ar", "ألمانيا", "12,345"),
    ],
)
def test_states_and_numbers_are_named_as_cldr_writes_them(
    code: str, germany: str, number: str
) -> None:
    with i18n.using(code):
        assert i18n.country_name("DEU") == germany
        assert i18n.format_number(12345) == number


def test_a_code_cldr_does_not_know_keeps_its_own_name() -> None:
    with i18n.using("fr"):
        assert i18n.country_name("XKX", "Kosovo") == "Kosovo"
        assert i18n.country_name("ZZZ") == "ZZZ"


def test_each_language_is_named_in_itself() -> None:
    names = [i18n.language(code).own_name for code in i18n.LANGUAGES]
    assert names == ["العربية", "中文", "English", "Français", "Русский", "Español"]


def test_the_language_in_use_is_restored_after_a_block() -> None:
    assert i18n.current().code == "en"
    with i18n.using("ru"):
        with i18n.using("ar"):
            assert i18n.current().code == "ar"
        assert i18n.current().code == "ru"
    assert i18n.current().code == "en"


def test_a_rules_sentence_is_read_in_the_language_in_use() -> None:
    """The rules speak English (a workflow says the same on every replay); a reader gets the
    sentence in their language, its values kept, its instants and States written their way."""
    closed = (
        "The call for inputs closed at 2020-10-26T23:59:00+00:00 and this review does not"
        " accept late submissions."
    )
    with i18n.using("fr"):
        assert i18n.rule_text(closed, "Europe/Zurich") == (
            "L'appel à contributions a été clos le 27 octobre 2020, 00:59 CET et cet examen"
            " n'accepte pas les contributions tardives."
        )
        assert i18n.rule_text(
            "The deadlines would be out of order: inputs_due_at must be after call_opens_at."
        ) == (
            "Les dates limites ne seraient plus dans l'ordre : « inputs_due_at » doit être"
            " postérieure à « call_opens_at »."
        )
        assert i18n.rule_text("A sentence of no rule.") == "A sentence of no rule."
    with i18n.using("ar"):
        assert i18n.rule_text("FRA is not a member State of this review.") == (
            "فرنسا ليست دولة عضوًا في هذا الاستعراض."
        )
    assert i18n.rule_text(closed) == closed  # English stays as the rule said it


@pytest.mark.parametrize("code", [c for c in i18n.LANGUAGES if c != "en"])
def test_every_rules_sentence_has_a_template_that_reads_it(code: str) -> None:
    """Each sentence of the rules, its fields filled, comes out translated, fields kept."""
    for english in extract("rules"):
        if not english.id:
            continue
        sample = english.id.format_map(_Sample())
        with i18n.using(code):
            read = i18n.rule_text(sample)
        assert read != sample, english.id
        assert "{" not in read, read


class _Sample(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def test_english_names_states_as_the_un_does_and_the_others_as_cldr() -> None:
    assert i18n.country_name("BOL") == "Bolivia (Plurinational State of)"
    assert i18n.country_name("RUS") == "Russian Federation"
    with i18n.using("fr"):
        assert i18n.country_name("BOL") == "Bolivie"
        assert i18n.country_name("RUS") == "Russie"


def test_a_text_is_translated_as_the_catalogue_of_its_place_says() -> None:
    """The same English can need two translations ("Submitted" as a State's status on a page,
    as a count in a mail): each file's texts are looked up in its own catalogue first."""
    from i18n.catalogues import read

    seen: dict[str, tuple[str, str]] = {}
    for domain in i18n.DOMAINS:
        for message in read("fr", domain):
            if isinstance(message.id, str) and message.id and isinstance(message.string, str):
                other = seen.setdefault(message.id, (domain, message.string))
                if other[1] != message.string:
                    with i18n.using("fr"):
                        assert i18n.dgettext(domain, message.id) == message.string
                        assert i18n.dgettext(other[0], message.id) == other[1]
                    return
    pytest.skip("no text is translated two ways")


def test_a_text_its_own_catalogue_lacks_is_found_in_the_others() -> None:
    """A page shows an objective's title, which the reference catalogue translates."""
    objective = load_reference().objectives[0].title
    with i18n.using("fr"):
        assert i18n.dgettext("console", objective).startswith("Collecter et utiliser")
        assert i18n.dgettext(None, objective) == i18n.dgettext("console", objective)
