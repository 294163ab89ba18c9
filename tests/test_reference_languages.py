"""The GCM's reference data in the six languages: every title translated by the "reference"
catalogue in the official wording of General Assembly resolution 73/195, and the reference
endpoints of the API answering in the language Accept-Language asks for."""

from __future__ import annotations

from typing import Any

import pytest

import i18n
from api.openapi import openapi_document
from domain.reference import gcm_document, load_reference
from i18n import reference as in_language
from i18n.catalogues import extract

TRANSLATED = ("ar", "zh", "fr", "ru", "es")

# Objective 1, as resolution 73/195 words it in each language.
OBJECTIVE_1 = {
    "en": "Collect and utilize accurate and disaggregated data as a basis for evidence-based"
    " policies",
    "fr": "Collecter et utiliser des données précises et ventilées qui serviront à l’élaboration"
    " de politiques fondées sur la connaissance des faits",
    "es": "Recopilar y utilizar datos exactos y desglosados para formular políticas con base"
    " empírica",
    "zh": "收集和利用准确的分类数据，作为循证政策的基础",
    "ru": "Сбор и использование точных и дезагрегированных данных в качестве основы для"
    " выработки эмпирически обоснованной политики",
    "ar": "جمع واستخدام بيانات دقيقة ومصنفة كأساس لوضع سياسات قائمة على الأدلة",
}

# A word each language's title of objective N must hold, so that no title sits under another
# objective's number: N -> {language: word}.
OBJECTIVE_WORDS = {
    8: {
        "fr": "disparus",
        "es": "desaparecidos",
        "ru": "пропавшими",
        "zh": "失踪",
        "ar": "المفقودين",
    },
    13: {"fr": "rétention", "es": "detención", "ru": "под стражей", "zh": "拘留", "ar": "احتجاز"},
    20: {
        "fr": "envois de fonds",
        "es": "remesas",
        "ru": "переводу",
        "zh": "汇款",
        "ar": "التحويلات",
    },
    23: {
        "fr": "partenariats mondiaux",
        "es": "alianzas mundiales",
        "ru": "глобальных партнерств",
        "zh": "全球伙伴关系",
        "ar": "الشراكات العالمية",
    },
}

# Titles whose official translation is the English word itself.
SAME_AS_ENGLISH = frozenset({("fr", "Migrants")})


def reference_titles() -> list[str]:
    return [str(message.id) for message in extract("reference") if message.id]


def test_the_catalogue_holds_every_title_of_the_data() -> None:
    reference = load_reference()
    data = {
        *(o.title for o in reference.objectives),
        *(c.title for c in reference.clusters),
        *(p.title for p in reference.guiding_principles),
        *(t.title for t in (*reference.stakeholder_categories, *reference.objective_statuses)),
        *(name for r in reference.regions for name in (r.commission, r.region)),
    }
    assert set(reference_titles()) == data
    assert len(data) == 67


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_title_is_translated_and_differs_from_the_english(language: str) -> None:
    with i18n.using(language):
        untranslated = [
            title
            for title in reference_titles()
            if not in_language.title(title).strip()
            or (in_language.title(title) == title and (language, title) not in SAME_AS_ENGLISH)
        ]
    assert untranslated == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_objectives_keep_their_numbers_in_every_language(language: str) -> None:
    with i18n.using(language):
        objectives = in_language.gcm()["objectives"]
    assert [o["number"] for o in objectives] == list(range(1, 24))
    assert len({o["title"] for o in objectives}) == 23
    titles = {o["number"]: o["title"] for o in objectives}
    assert titles[1] == OBJECTIVE_1[language]
    for number, words in OBJECTIVE_WORDS.items():
        assert words[language] in titles[number], (number, titles[number])


def test_english_reads_as_the_data_and_the_data_stays_english() -> None:
    assert in_language.gcm() == gcm_document()
    ece = load_reference().region("ECE")
    assert ece is not None
    english = in_language.region(ece, with_members=True)
    assert {"iso3": "RUS", "name": "Russian Federation"} in english["members"]
    with i18n.using("fr"):
        assert in_language.gcm()["objectives"][0]["title"] == OBJECTIVE_1["fr"]
        # What workflows read is untouched by a translated answer, whatever the language.
        assert gcm_document()["objectives"][0]["title"] == OBJECTIVE_1["en"]
        assert load_reference().objectives[0].title == OBJECTIVE_1["en"]


# ---- over HTTP -------------------------------------------------------------------------------


async def get_json(api: Any, path: str, admin: Any, accept_language: str | None) -> Any:
    headers = dict(admin.headers)
    if accept_language is not None:
        headers["Accept-Language"] = accept_language
    response = await api.get(path, headers=headers)
    assert response.status == 200, await response.text()
    return response


@pytest.mark.parametrize("language", ["fr", "zh", "es", "ru", "ar"])
async def test_gcm_follows_accept_language(api: Any, admin: Any, language: str) -> None:
    response = await get_json(api, "/v1/gcm", admin, f"{language};q=0.9, en;q=0.1")
    assert response.headers["Content-Language"] == language
    assert "accept-language" in response.headers["Vary"].lower()
    body = await response.json()
    assert body["objectives"][0] == {"number": 1, "title": OBJECTIVE_1[language], "cluster": 4}
    with i18n.using(language):
        assert body["guiding_principles"][0]["title"] == i18n.gettext("People-centred")
    assert body["guiding_principles"][0]["id"] == "people_centred"
    assert body["guiding_principles"][0]["title"] != "People-centred"


async def test_french_objective_1_is_the_official_text(api: Any, admin: Any) -> None:
    body = await (await get_json(api, "/v1/gcm", admin, "fr-FR")).json()
    assert body["objectives"][0]["title"] == (
        "Collecter et utiliser des données précises et ventilées qui serviront à l’élaboration"
        " de politiques fondées sur la connaissance des faits"
    )
    assert body["guiding_principles"][2]["title"] == "Souveraineté nationale"


async def test_without_accept_language_the_answer_is_english(api: Any, admin: Any) -> None:
    response = await get_json(api, "/v1/gcm", admin, None)
    assert response.headers["Content-Language"] == "en"
    assert await response.json() == gcm_document()


@pytest.mark.parametrize(
    ("accept_language", "spoken"),
    [
        ("xx", "en"),
        ("*", "en"),
        ("", "en"),
        ("fr;q=abc", "en"),
        ("fr;q=abc, es;q=0.3", "es"),
        ("de-DE, xx;q=0.9, ru;q=0.5", "ru"),
        ("en;q=0, zh-Hant-TW", "zh"),
        ("x" * 5000, "en"),
        ("a," * 2500, "en"),
        ("ar;q=0.2, fr;q=0.8" + ", zz" * 1600, "fr"),
        ("fr;q=1e999, es", "fr"),
        (";;;,,,;q=;=", "en"),
    ],
)
async def test_garbled_accept_language_is_english_or_the_best_valid_choice(
    api: Any, admin: Any, accept_language: str, spoken: str
) -> None:
    response = await get_json(api, "/v1/gcm", admin, accept_language)
    assert response.headers["Content-Language"] == spoken
    body = await response.json()
    assert body["objectives"][0]["title"] == OBJECTIVE_1[spoken]


async def test_a_region_names_its_members_in_russian(api: Any, admin: Any) -> None:
    response = await get_json(api, "/v1/regions/ECE", admin, "ru-RU,ru;q=0.9")
    assert response.headers["Content-Language"] == "ru"
    body = await response.json()
    assert body["code"] == "ECE"
    assert body["commission"] == "Европейская экономическая комиссия"
    assert {"iso3": "DEU", "name": "Германия"} in body["members"]
    assert {"iso3": "KAZ", "name": "Казахстан"} in body["members"]
    assert len(body["members"]) == 56
    assert body["default_scope"][:3] == [c.iso3 for c in load_reference().regions[0].members][:3]


async def test_a_region_in_english_keeps_the_un_names(api: Any, admin: Any) -> None:
    response = await get_json(api, "/v1/regions/eclac", admin, "en-GB")
    assert response.headers["Content-Language"] == "en"
    body = await response.json()
    assert body["commission"] == "Economic Commission for Latin America and the Caribbean"
    assert {"iso3": "BOL", "name": "Bolivia (Plurinational State of)"} in body["members"]


async def test_the_regions_list_follows_accept_language(api: Any, admin: Any) -> None:
    response = await get_json(api, "/v1/regions", admin, "es")
    assert response.headers["Content-Language"] == "es"
    items = (await response.json())["items"]
    assert [r["code"] for r in items] == ["ECE", "ECA", "ECLAC", "ESCAP", "ESCWA"]
    assert items[2]["commission"] == "Comisión Económica para América Latina y el Caribe"
    arabic = (await (await get_json(api, "/v1/regions", admin, "ar")).json())["items"]
    assert arabic[4]["commission"] == "اللجنة الاقتصادية والاجتماعية لغربي آسيا"
    chinese = (await (await get_json(api, "/v1/regions", admin, "zh-CN")).json())["items"]
    assert chinese[4]["commission"] == "西亚经济社会委员会"


async def test_an_unknown_region_is_still_a_404_in_any_language(api: Any, admin: Any) -> None:
    response = await api.get("/v1/regions/XYZ", headers={**admin.headers, "Accept-Language": "fr"})
    assert response.status == 404


@pytest.mark.parametrize(
    ("path", "method"), [("/v1/gcm", "get"), ("/v1/regions", "get"), ("/v1/regions/{code}", "get")]
)
def test_the_openapi_document_says_the_answer_follows_accept_language(
    path: str, method: str
) -> None:
    declared = openapi_document()["paths"][path][method]
    assert any(p.get("name") == "Accept-Language" for p in declared["parameters"])
    assert "Accept-Language" in declared["description"]
    headers = declared["responses"]["200"]["headers"]
    assert headers["Content-Language"]["schema"] == {"enum": list(i18n.LANGUAGES)}
    assert "Vary" in headers
