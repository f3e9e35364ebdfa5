"""The kelurahan matcher on addresses as people type them, typos included."""

from __future__ import annotations

import pytest

from models.areas import KECAMATAN, KELURAHAN, locate


def test_the_list_is_palangka_rayas_30_kelurahan_in_5_kecamatan() -> None:
    assert len(KECAMATAN) == 5 and len(KELURAHAN) == 30
    counts = {kecamatan: len(names) for kecamatan, names in KECAMATAN.items()}
    assert counts == {
        "Pahandut": 6,
        "Jekan Raya": 4,
        "Sebangau": 6,
        "Bukit Batu": 7,
        "Rakumpit": 7,
    }


@pytest.mark.parametrize(
    ("text", "kelurahan", "kecamatan"),
    [
        ("Jl. Tjilik Riwut km 5, Kel. Bukit Tunggal", "Bukit Tunggal", "Jekan Raya"),
        ("Jl. Rajawali, Kelurahan Bukit Tungal", "Bukit Tunggal", "Jekan Raya"),  # typo
        ("Pasar Kahayan, Panarung", "Panarung", "Pahandut"),
        ("Kereng Bengkirai dekat dermaga", "Kereng Bangkirai", "Sebangau"),  # common spelling
        ("Jl. G. Obos, Menteng, Palangka Raya", "Menteng", "Jekan Raya"),
        ("Tangkiling km 34", "Tangkiling", "Bukit Batu"),
        ("Kalampengan ujung", "Kalampangan", "Sebangau"),  # typo
        ("Desa Tumbang Tahai", "Tumbang Tahai", "Bukit Batu"),
        ("MUNGKU BARU", "Mungku Baru", "Rakumpit"),
        ("Jl. Mahir Mahar, Kel. Palangka", "Palangka", "Jekan Raya"),
        ("pahandut sebrang rt 3", "Pahandut Seberang", "Pahandut"),  # the longer name wins
        ("Pahandut", "Pahandut", "Pahandut"),
        ("Jl. Petuk Katimun", "Petuk Katimpun", "Jekan Raya"),
        ("Jl. Langkai no. 3", "Langkai", "Pahandut"),
        ("Kalampengan, Kec. Sebangau", "Kalampangan", "Sebangau"),  # the kelurahan, misspelt
        ("Bukit Tungal, Kec. Jekan Raya", "Bukit Tunggal", "Jekan Raya"),
        ("Jl. Kinibalu, Kel. Menteng, Kec. Jekan Raya", "Menteng", "Jekan Raya"),
        ("Habaring hurung", "Habaring Hurung", "Bukit Batu"),
        # A kecamatan named alone: no kelurahan.
        ("Kec. Pahandut", None, "Pahandut"),
        ("Jl. Sisingamangaraja, Sabangau", None, "Sebangau"),
        ("Jekan raya", None, "Jekan Raya"),
        # Nothing to match: blank rather than a guess.
        ("Jl. Ahmad Yani, Palangka Raya", None, None),  # the city is not kelurahan Palangka
        ("Palangkaraya", None, None),
        ("dekat toko barang bekas", None, None),  # "barang" is not Marang
        ("depan pagar sekolah", None, None),  # "pagar" is not Pager
        ("Jl. Yos Sudarso gang 3", None, None),
        # Everyday words near a kelurahan's name, and the city's name however written.
        ("Kantor PMI (Palang Merah Indonesia)", None, None),
        ("Jl. Panjang no 5", None, None),  # not Panjehang
        ("dua langkah dari pasar", None, None),  # not Langkai
        ("Gang Baru", None, None),  # not Gaung Baru
        ("mungkin baru", None, None),  # not Mungku Baru
        ("Perumahan Bukit Sungai", None, None),  # not Bukit Sua
        ("Jl. Bukit Baru", None, None),  # not kecamatan Bukit Batu
        ("Palangka-Raya", None, None),
        ("Plangka Raya", None, None),
        ("Jl. Diponegoro, Palangka, Kalteng", None, None),  # the city: "Kel. Palangka" is not
        ("", None, None),
    ],
)
def test_an_address_is_placed_in_its_kelurahan_and_kecamatan(
    text: str, kelurahan: str | None, kecamatan: str | None
) -> None:
    area = locate(text)
    assert (area.kelurahan, area.kecamatan) == (kelurahan, kecamatan)


def test_no_address_is_nowhere() -> None:
    assert locate(None).kecamatan is None
