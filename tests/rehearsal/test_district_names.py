"""The synthetic district names its sites for every reader, as the sample sites.csv does."""
from tikabot.i18n.places import in_script
from tikabot.rehearsal.district import make_district


def test_every_site_has_an_english_bengali_and_hindi_name():
    sites = make_district(sites=12, beneficiaries=5).sites
    for site in sites:
        assert in_script(site["name_en"], "en") and in_script(site["name_bn"], "bn"), site
        assert in_script(site["name_hi"].replace(" ", ""), "hi"), site
    assert sites[10]["name_en"] == "Barasat Health Centre 2"  # the eleventh site is the second at Barasat
