"""Checks the GCM reference data against the facts it encodes (no database or server needed)."""

import json
import re

import pytest

from domain.reference import Reference, load_reference, region_document
from domain.reference import gcm_document as build_gcm_document

# All 249 officially assigned ISO 3166-1 alpha-3 codes, written out so the test needs no network
# and no extra package.
_ISO_3166_ALPHA3_TEXT = """
    ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE
    BDI BEL BEN BES BFA BGD BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA
    CAF CAN CCK CHE CHL CHN CIV CMR COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE
    DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH ESP EST ETH FIN FJI FLK FRA FRO FSM
    GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL GTM GUF GUM GUY
    HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR JPN
    KAZ KEN KGZ KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA
    MAC MAF MAR MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT
    NAM NCL NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN
    PAK PAN PCN PER PHL PLW PNG POL PRI PRK PRT PRY PSE PYF QAT REU ROU RUS RWA
    SAU SDN SEN SGP SGS SHN SJM SLB SLE SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR
    TCA TCD TGO THA TJK TKL TKM TLS TON TTO TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB
    VAT VCT VEN VGB VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE
"""
ISO_3166_ALPHA3 = frozenset(_ISO_3166_ALPHA3_TEXT.split())

# Round-table clusters of General Assembly resolution 73/326.
CLUSTERS = {
    1: {2, 5, 6, 12, 18},
    2: {4, 8, 9, 10, 11, 13, 21},
    3: {14, 15, 16, 19, 20, 22},
    4: {1, 3, 7, 17, 23},
}

PRINCIPLE_IDS = (
    "people_centred",
    "international_cooperation",
    "national_sovereignty",
    "rule_of_law",
    "sustainable_development",
    "human_rights",
    "gender_responsive",
    "child_sensitive",
    "whole_of_government",
    "whole_of_society",
)

CATEGORY_IDS = (
    "migrants",
    "diaspora_migrant_organisations",
    "local_communities",
    "local_authorities",
    "civil_society",
    "faith_based",
    "academia",
    "private_sector",
    "trade_unions",
    "parliamentarians",
    "nhri",
    "red_cross_red_crescent",
    "media",
    "children_youth",
    "other",
)

# code: (members, non-regional members, associate members)
REGION_COUNTS = {
    "ECE": (56, 0, 0),
    "ECA": (54, 0, 0),
    "ECLAC": (33, 13, 14),
    "ESCAP": (53, 4, 9),
    "ESCWA": (20, 0, 0),
}


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference()


def test_iso_code_list_is_complete() -> None:
    assert len(ISO_3166_ALPHA3) == 249


def test_objectives_numbered_1_to_23_with_titles(ref: Reference) -> None:
    assert ref.objective_numbers == tuple(range(1, 24))
    assert all(objective.title.strip() for objective in ref.objectives)
    assert ref.objectives[0].title.startswith("Collect and utilize accurate and disaggregated data")
    assert ref.objectives[22].title == (
        "Strengthen international cooperation and global partnerships "
        "for safe, orderly and regular migration"
    )


def test_every_objective_in_exactly_one_cluster(ref: Reference) -> None:
    listed = [number for cluster in ref.clusters for number in cluster.objectives]
    assert sorted(listed) == list(range(1, 24))
    for cluster in ref.clusters:
        assert set(cluster.objectives) == {
            objective.number for objective in ref.objectives if objective.cluster == cluster.number
        }


def test_clusters_match_resolution_73_326(ref: Reference) -> None:
    assert [cluster.number for cluster in ref.clusters] == [1, 2, 3, 4]
    assert {cluster.number: set(cluster.objectives) for cluster in ref.clusters} == CLUSTERS
    assert all(cluster.title.strip() for cluster in ref.clusters)


def test_guiding_principles(ref: Reference) -> None:
    assert ref.principle_ids == PRINCIPLE_IDS
    assert [p.paragraph for p in ref.guiding_principles] == [f"15({c})" for c in "abcdefghij"]
    assert all(p.title.strip() for p in ref.guiding_principles)


def test_stakeholder_categories(ref: Reference) -> None:
    assert ref.category_ids == CATEGORY_IDS
    assert all(category.title.strip() for category in ref.stakeholder_categories)


def test_objective_statuses(ref: Reference) -> None:
    assert ref.status_ids == (
        "not_started",
        "planned",
        "in_progress",
        "implemented",
        "not_applicable",
    )


@pytest.mark.parametrize(("code", "counts"), REGION_COUNTS.items())
def test_region_counts(ref: Reference, code: str, counts: tuple[int, int, int]) -> None:
    region = ref.region(code)
    assert region is not None
    assert (
        len(region.members),
        len(region.non_regional_members),
        len(region.associate_members),
    ) == counts


def test_exactly_the_five_commissions(ref: Reference) -> None:
    assert [region.code for region in ref.regions] == list(REGION_COUNTS)
    assert ref.region("XYZ") is None


@pytest.mark.parametrize("code", REGION_COUNTS)
def test_region_codes_are_valid_and_unique(ref: Reference, code: str) -> None:
    region = ref.region(code)
    assert region is not None
    codes = [
        *(country.iso3 for country in region.members),
        *region.non_regional_members,
        *(country.iso3 for country in region.associate_members),
    ]
    for iso3 in codes:
        assert re.fullmatch(r"[A-Z]{3}", iso3), iso3
        assert iso3 in ISO_3166_ALPHA3, iso3
    members = [country.iso3 for country in region.members]
    associates = [country.iso3 for country in region.associate_members]
    assert len(set(members)) == len(members)
    assert len(set(associates)) == len(associates)
    assert len(set(region.non_regional_members)) == len(region.non_regional_members)
    assert not set(members) & set(associates)
    assert all(country.name.strip() for country in (*region.members, *region.associate_members))


def test_non_regional_members(ref: Reference) -> None:
    escap, eclac = ref.region("ESCAP"), ref.region("ECLAC")
    assert escap is not None and eclac is not None
    escap_members = {country.iso3 for country in escap.members}
    eclac_members = {country.iso3 for country in eclac.members}
    # ESCAP's 53 include its non-regional members; ECLAC's 33 regional members do not.
    assert set(escap.non_regional_members) == {"FRA", "NLD", "GBR", "USA"} <= escap_members
    assert not set(eclac.non_regional_members) & eclac_members
    assert {"CAN", "JPN", "KOR", "NOR", "TUR"} <= set(eclac.non_regional_members)
    # Every non-regional code must still resolve to a name for display.
    for iso3 in (*escap.non_regional_members, *eclac.non_regional_members):
        assert ref.country_name(iso3), iso3


def test_one_name_per_country_across_regions(ref: Reference) -> None:
    names: dict[str, set[str]] = {}
    for region in ref.regions:
        for country in (*region.members, *region.associate_members):
            names.setdefault(country.iso3, set()).add(country.name)
    assert {iso3: n for iso3, n in names.items() if len(n) > 1} == {}


def test_membership_spot_checks(ref: Reference) -> None:
    def members(code: str) -> set[str]:
        region = ref.region(code)
        assert region is not None
        return {country.iso3 for country in region.members}

    assert {"USA", "KAZ", "ISR", "TUR"} <= members("ECE")
    assert "PSE" in members("ESCWA")
    assert "DJI" not in members("ESCWA")
    assert "DJI" in members("ECA")
    assert "EGY" in members("ECA")
    assert "EGY" in members("ESCWA")
    assert "BRA" in members("ECLAC")
    assert "USA" not in members("ECLAC")
    assert {"AFG", "RUS", "TUR"} <= members("ESCAP")
    assert "ISR" not in members("ESCAP")


def test_country_name(ref: Reference) -> None:
    assert ref.country_name("TUR") == "Turkey"
    assert ref.country_name("CIV") == "Côte d'Ivoire"
    assert ref.country_name("HKG") == "Hong Kong, China"  # associate member of ESCAP
    assert ref.country_name("XKX") is None


def test_load_reference_is_cached() -> None:
    assert load_reference() is load_reference()


def test_gcm_document_is_plain_json() -> None:
    document = build_gcm_document()
    assert set(document) == {
        "objectives",
        "clusters",
        "guiding_principles",
        "stakeholder_categories",
        "objective_statuses",
    }
    assert json.loads(json.dumps(document)) == document  # lists, not tuples
    assert document["objectives"][1] == {
        "number": 2,
        "title": "Minimize the adverse drivers and structural factors "
        "that compel people to leave their country of origin",
        "cluster": 1,
    }
    assert document["clusters"][0]["objectives"] == [2, 5, 6, 12, 18]
    # Each call builds a fresh document, so one caller's edits cannot leak into another's.
    document["objectives"].clear()
    assert len(build_gcm_document()["objectives"]) == 23


def test_region_document(ref: Reference) -> None:
    escap = ref.region("ESCAP")
    assert escap is not None
    summary = region_document(escap, with_members=False)
    assert summary == {
        "code": "ESCAP",
        "commission": "Economic and Social Commission for Asia and the Pacific",
        "region": "Asia and the Pacific",
    }
    full = region_document(escap, with_members=True)
    assert json.loads(json.dumps(full)) == full
    assert len(full["members"]) == 53
    assert full["non_regional_members"] == ["FRA", "NLD", "GBR", "USA"]
    assert {"iso3": "MAC", "name": "Macao, China"} in full["associate_members"]
