"""Tests of bpviz.core.data.encoding: a CSV file's bytes as text, from every encoding Excel
saves in (generated here: Chinese GBK/GB18030, UTF-16 with and without a byte-order mark,
Latin-1 and Windows-1252), or refused with code ``encoding`` — never garbled."""

from __future__ import annotations

import codecs

import pytest

from bpviz.core.data.csv import load_csv
from bpviz.core.data.encoding import decode_csv_bytes
from bpviz.core.data.errors import DataError

CHINESE = [
    "面积,房间数,价格\n85.5,3,120\n60,2,95\n120,4,180\n45,1,70\n",
    "姓名,年龄,成绩\n张三,18,90\n李四,19,85\n王五,20,77\n赵六,18,60\n",
    "x1,x2,类别\n1,2,猫\n3,4,狗\n5,6,猫\n7,8,狗\n",
    "面积,价格\n1,2\n3,4\n5,6\n7,8\n",
    "城市,温度,是否下雨\n北京,12.5,否\n上海,18,是\n广州,25,是\n深圳,26,否\n",
    "长度（厘米）,宽度（厘米）,品种\n5.1,3.5,山鸢尾\n4.9,3.0,山鸢尾\n7.0,3.2,变色鸢尾\n",
    "a,b\n1,是\n2,否\n",
]
WESTERN = [
    "Région,Température,Qualité\nÎle-de-France,12.5,élevée\nCôte d'Azur,18,moyenne\n",
    "País,Año,Niño\nEspaña,2020,sí\nMéxico,2021,no\n",
    "Größe,Gewicht,Länge\n1,2,3\n3,4,5\n",
    "naïve,café,crème brûlée\n1,2,3\n",
    "Straße,Höhe\nMünchen,519\nKöln,53\nDüsseldorf,38\n",
    "x,y,label\n1,2,oui\n3,4,non\n5,6,peut-être\n",  # "êt" is a valid GBK pair
    "Åre,Øl,Æble\n1,2,3\n",
    "temp (°C),µm,±\n1,2,3\n",
    "größe\n1\n",
]


@pytest.mark.parametrize("text", CHINESE)
@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_chinese_excel(text: str, encoding: str) -> None:
    assert decode_csv_bytes(text.encode(encoding)) == (text, "gb18030")


@pytest.mark.parametrize("text", CHINESE + WESTERN)
@pytest.mark.parametrize(
    ("encoding", "name"),
    [
        ("utf-16", "utf-16-le"),  # Excel's "Unicode text": a mark, little-endian
        ("utf-16-le", "utf-16-le"),
        ("utf-16-be", "utf-16-be"),
        ("utf-32", "utf-32-le"),
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),  # Excel's "CSV UTF-8"
    ],
)
def test_unicode(text: str, encoding: str, name: str) -> None:
    assert decode_csv_bytes(text.encode(encoding)) == (text, name)


@pytest.mark.parametrize("text", WESTERN)
@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_western_excel(text: str, encoding: str) -> None:
    assert decode_csv_bytes(text.encode(encoding)) == (text, "cp1252")


def test_windows_1252_beyond_latin_1() -> None:
    text = "Preis (€),“Name”\n1,a\n"
    assert decode_csv_bytes(text.encode("cp1252")) == (text, "cp1252")


def test_a_large_file_with_few_accents() -> None:
    body = "1.5,2\n" * 50_000
    for text in ("Größe,Preis\n" + body, "a,b\n" + body + "Köln,Düsseldorf\n"):
        assert decode_csv_bytes(text.encode("latin-1")) == (text, "cp1252")
    text = "a,b\n" + body + "面积,价格\n"
    assert decode_csv_bytes(text.encode("gbk")) == (text, "gb18030")


def _refused(data: bytes) -> DataError:
    with pytest.raises(DataError) as info:
        decode_csv_bytes(data)
    err = info.value
    assert err.code == "encoding" and err.message and "CSV UTF-8" in err.message
    return err


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)),  # an .xlsx
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200),  # an .xls
        b"a,b\n1,\x00\x01\x02\n",  # NULs, not UTF-16
        b"a,b\n1,\x07\n",  # a control character
    ],
)
def test_binary_files_are_refused(data: bytes) -> None:
    assert _refused(data).params["reason"] == "binary"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Цена,Количество,Город\n100,2,Москва\n200,3,Казань\n", "cp1251"),
        ("面積,価格,ラベル\n1,2,ねこ\n3,4,いぬ\n", "shift_jis"),
        ("面積,價格,類別\n1,2,貓\n3,4,狗\n", "big5"),
    ],
)
def test_other_encodings_are_refused_not_garbled(text: str, encoding: str) -> None:
    err = _refused(text.encode(encoding))
    assert err.params["reason"] in ("undetected", "unsupported")


def test_a_mark_then_bytes_that_do_not_decode() -> None:
    err = _refused(codecs.BOM_UTF8 + b"a,b\n1,2\n\xff\xfe\xfd\n")
    assert err.params == {"row": 3, "reason": "invalid", "encoding": "utf-8-sig"}


def test_load_csv_reads_a_chinese_excel_file() -> None:
    text = "面积,房间数,价格\n85.5,3,120\n60,2,95\n120,4,180\n45,1,70\n"
    ds = load_csv(text.encode("gbk"), target="价格")
    assert ds.feature_names == ("面积", "房间数") and ds.class_names == ("价格",)
    assert ds.task == "regression"
