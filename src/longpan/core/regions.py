"""Province-level divisions of China: canonical short names and their variants."""

from __future__ import annotations

from longpan.core.errors import IdentifierError

# short name → (full name, one-character abbreviation used in ICP numbers, GB/T 2260 code)
PROVINCES: dict[str, tuple[str, str, str]] = {
    "北京": ("北京市", "京", "11"),
    "天津": ("天津市", "津", "12"),
    "河北": ("河北省", "冀", "13"),
    "山西": ("山西省", "晋", "14"),
    "内蒙古": ("内蒙古自治区", "蒙", "15"),
    "辽宁": ("辽宁省", "辽", "21"),
    "吉林": ("吉林省", "吉", "22"),
    "黑龙江": ("黑龙江省", "黑", "23"),
    "上海": ("上海市", "沪", "31"),
    "江苏": ("江苏省", "苏", "32"),
    "浙江": ("浙江省", "浙", "33"),
    "安徽": ("安徽省", "皖", "34"),
    "福建": ("福建省", "闽", "35"),
    "江西": ("江西省", "赣", "36"),
    "山东": ("山东省", "鲁", "37"),
    "河南": ("河南省", "豫", "41"),
    "湖北": ("湖北省", "鄂", "42"),
    "湖南": ("湖南省", "湘", "43"),
    "广东": ("广东省", "粤", "44"),
    "广西": ("广西壮族自治区", "桂", "45"),
    "海南": ("海南省", "琼", "46"),
    "重庆": ("重庆市", "渝", "50"),
    "四川": ("四川省", "川", "51"),
    "贵州": ("贵州省", "贵", "52"),
    "云南": ("云南省", "云", "53"),
    "西藏": ("西藏自治区", "藏", "54"),
    "陕西": ("陕西省", "陕", "61"),
    "甘肃": ("甘肃省", "甘", "62"),
    "青海": ("青海省", "青", "63"),
    "宁夏": ("宁夏回族自治区", "宁", "64"),
    "新疆": ("新疆维吾尔自治区", "新", "65"),
    "台湾": ("台湾省", "台", "71"),
    "香港": ("香港特别行政区", "港", "81"),
    "澳门": ("澳门特别行政区", "澳", "82"),
}
_BY_NAME = {full: short for short, (full, _, _) in PROVINCES.items()} | {
    short: short for short in PROVINCES
}


def canonical_province(value: str) -> str:
    """'江苏省' or '江苏' → '江苏'; anything else is an error."""
    name = value.strip()
    if name in _BY_NAME:
        return _BY_NAME[name]
    raise IdentifierError(
        "province", value, "not a province-level division of China (e.g. 江苏 or 江苏省)"
    )
