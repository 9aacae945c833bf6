"""Curated reference data for the synthetic province: real places, real registrars,
realistic name parts. Everything the generator draws from is listed here."""

from __future__ import annotations

from dataclasses import dataclass

# Jiangsu's 13 prefecture-level cities: short pinyin, full pinyin and real districts
# (GB/T 2260 code, name).
CITIES: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    "南京": (
        "nj",
        "nanjing",
        (
            ("320102", "玄武区"),
            ("320104", "秦淮区"),
            ("320105", "建邺区"),
            ("320106", "鼓楼区"),
            ("320111", "浦口区"),
            ("320113", "栖霞区"),
            ("320114", "雨花台区"),
            ("320115", "江宁区"),
            ("320116", "六合区"),
        ),
    ),
    "无锡": (
        "wx",
        "wuxi",
        (
            ("320205", "锡山区"),
            ("320206", "惠山区"),
            ("320211", "滨湖区"),
            ("320213", "梁溪区"),
            ("320214", "新吴区"),
        ),
    ),
    "徐州": (
        "xz",
        "xuzhou",
        (("320302", "鼓楼区"), ("320303", "云龙区"), ("320311", "泉山区"), ("320312", "铜山区")),
    ),
    "常州": (
        "cz",
        "changzhou",
        (
            ("320402", "天宁区"),
            ("320404", "钟楼区"),
            ("320411", "新北区"),
            ("320412", "武进区"),
            ("320413", "金坛区"),
        ),
    ),
    "苏州": (
        "sz",
        "suzhou",
        (
            ("320505", "虎丘区"),
            ("320506", "吴中区"),
            ("320507", "相城区"),
            ("320508", "姑苏区"),
            ("320509", "吴江区"),
        ),
    ),
    "南通": ("nt", "nantong", (("320612", "通州区"), ("320613", "崇川区"), ("320614", "海门区"))),
    "连云港": (
        "lyg",
        "lianyungang",
        (("320703", "连云区"), ("320706", "海州区"), ("320707", "赣榆区")),
    ),
    "淮安": ("ha", "huaian", (("320803", "淮安区"), ("320804", "淮阴区"), ("320812", "清江浦区"))),
    "盐城": ("yc", "yancheng", (("320902", "亭湖区"), ("320903", "盐都区"), ("320904", "大丰区"))),
    "扬州": ("yz", "yangzhou", (("321002", "广陵区"), ("321003", "邗江区"), ("321012", "江都区"))),
    "镇江": ("zj", "zhenjiang", (("321102", "京口区"), ("321111", "润州区"), ("321112", "丹徒区"))),
    "泰州": ("tz", "taizhou", (("321202", "海陵区"), ("321203", "高港区"), ("321204", "姜堰区"))),
    "宿迁": ("sq", "suqian", (("321302", "宿城区"), ("321311", "宿豫区"))),
}
CITY_WEIGHTS = (0.17, 0.1, 0.07, 0.07, 0.2, 0.07, 0.03, 0.03, 0.05, 0.05, 0.04, 0.05, 0.07)

# Characters for two-character trade names (字号), each with its pinyin.
NAME_CHARS = (
    "云",
    "擎",
    "鼎",
    "新",
    "汇",
    "通",
    "华",
    "泰",
    "金",
    "陵",
    "星",
    "辰",
    "博",
    "远",
    "锦",
    "程",
    "恒",
    "信",
    "中",
    "宏",
    "天",
    "成",
    "瑞",
    "丰",
    "嘉",
    "禾",
    "创",
    "智",
    "海",
    "川",
    "明",
    "德",
    "正",
    "元",
    "安",
    "达",
    "东",
    "方",
    "盛",
    "世",
    "永",
    "康",
    "和",
    "美",
    "光",
    "耀",
    "凯",
    "越",
    "卓",
    "尚",
    "易",
    "联",
    "腾",
    "飞",
    "启",
    "航",
    "优",
    "品",
    "润",
    "捷",
)
NAME_PINYIN = (
    "yun",
    "qing",
    "ding",
    "xin",
    "hui",
    "tong",
    "hua",
    "tai",
    "jin",
    "ling",
    "xing",
    "chen",
    "bo",
    "yuan",
    "jin",
    "cheng",
    "heng",
    "xin",
    "zhong",
    "hong",
    "tian",
    "cheng",
    "rui",
    "feng",
    "jia",
    "he",
    "chuang",
    "zhi",
    "hai",
    "chuan",
    "ming",
    "de",
    "zheng",
    "yuan",
    "an",
    "da",
    "dong",
    "fang",
    "sheng",
    "shi",
    "yong",
    "kang",
    "he",
    "mei",
    "guang",
    "yao",
    "kai",
    "yue",
    "zhuo",
    "shang",
    "yi",
    "lian",
    "teng",
    "fei",
    "qi",
    "hang",
    "you",
    "pin",
    "run",
    "jie",
)

# Industry (行业) part of company names, with an English-ish word for domains.
INDUSTRIES: tuple[tuple[str, str], ...] = (
    ("网络科技", "net"),
    ("信息技术", "it"),
    ("电子商务", "shop"),
    ("软件", "soft"),
    ("数据科技", "data"),
    ("文化传媒", "media"),
    ("教育咨询", "edu"),
    ("物流", "56"),
    ("贸易", "trade"),
    ("建设工程", "build"),
    ("医疗器械", "med"),
    ("餐饮管理", "food"),
    ("旅游发展", "travel"),
    ("智能科技", "ai"),
    ("新能源", "energy"),
    ("环保科技", "eco"),
    ("机械制造", "jixie"),
    ("电子", "dz"),
    ("广告", "ad"),
    ("健康管理", "health"),
    ("家居", "home"),
    ("汽车服务", "auto"),
    ("人力资源", "hr"),
    ("金融信息服务", "fin"),
)
COMPANY_SUFFIXES = ("有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司")

SURNAMES = (
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "林",
    "高",
    "罗",
)
SURNAME_PINYIN = (
    "wang",
    "li",
    "zhang",
    "liu",
    "chen",
    "yang",
    "huang",
    "zhao",
    "wu",
    "zhou",
    "xu",
    "sun",
    "ma",
    "zhu",
    "hu",
    "guo",
    "he",
    "lin",
    "gao",
    "luo",
)
GIVEN_CHARS = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "霞",
    "平",
    "刚",
    "辉",
    "鹏",
    "华",
    "琳",
)
GIVEN_PINYIN = (
    "wei",
    "fang",
    "na",
    "min",
    "jing",
    "lei",
    "yang",
    "yong",
    "yan",
    "jie",
    "tao",
    "ming",
    "chao",
    "xia",
    "ping",
    "gang",
    "hui",
    "peng",
    "hua",
    "lin",
)

GOV_BUREAUS: tuple[tuple[str, str], ...] = (
    ("教育局", "jyj"),
    ("卫生健康委员会", "wjw"),
    ("市场监督管理局", "scjgj"),
    ("人力资源和社会保障局", "hrss"),
    ("交通运输局", "jtj"),
    ("生态环境局", "sthjj"),
    ("文化广电和旅游局", "wglj"),
    ("公安局", "gaj"),
    ("财政局", "czj"),
    ("住房和城乡建设局", "zjj"),
)
INSTITUTIONS: tuple[tuple[str, str, str], ...] = (
    ("第一人民医院", "dyrmyy", "cn"),
    ("中医院", "zyy", "cn"),
    ("图书馆", "lib", "org.cn"),
    ("博物馆", "museum", "org.cn"),
    ("职业技术学院", "zjxy", "edu.cn"),
    ("第一中学", "yz", "edu.cn"),
    ("疾病预防控制中心", "cdc", "org.cn"),
    ("公共资源交易中心", "ggzy", "cn"),
)
ASSOCIATIONS: tuple[tuple[str, str], ...] = (
    ("软件行业协会", "softa"),
    ("互联网协会", "isc"),
    ("物流协会", "wla"),
    ("律师协会", "lawyer"),
)

# Top-level domains of commercial sites and their weights.
TLDS = ("com", "cn", "com.cn", "net", "top", "xyz", "org.cn", "net.cn", "cc")
TLD_WEIGHTS = (0.42, 0.2, 0.14, 0.08, 0.05, 0.04, 0.03, 0.02, 0.02)
SUBDOMAINS = ("www", "m", "mail", "api", "img", "static", "shop", "bbs", "news", "oa", "vpn")

SERVICE_TYPES = ("website", "app", "miniprogram", "quickapp")
SERVICE_TYPE_WEIGHTS = (0.86, 0.07, 0.05, 0.02)
TITLE_TEMPLATES = (
    "{name}官网",
    "{name} - 首页",
    "欢迎访问{name}",
    "{name}｜官方网站",
    "{name}-专业的{industry}服务商",
)


@dataclass(frozen=True)
class Registrar:
    iana_id: int
    name: str
    country: str
    cn_licence: str | None  # MIIT 域名注册服务机构 licence, for the domestic ones


# Real registrars with their IANA ids. The licence column records that the registrar
# holds MIIT's licence; the text is descriptive, not a licence number.
REGISTRARS: tuple[Registrar, ...] = (
    Registrar(
        420,
        "Alibaba Cloud Computing (Beijing) Co., Ltd.",
        "CN",
        "工信部域名注册服务机构许可（阿里云计算有限公司）",
    ),
    Registrar(120, "Xin Net Technology Corporation", "CN", "工信部域名注册服务机构许可（新网）"),
    Registrar(
        1556,
        "Chengdu West Dimension Digital Technology Co., Ltd.",
        "CN",
        "工信部域名注册服务机构许可（西部数码）",
    ),
    Registrar(1331, "eName Technology Co., Ltd.", "CN", "工信部域名注册服务机构许可（易名科技）"),
    Registrar(
        1469,
        "Jiangsu Bangning Science & Technology Co., Ltd.",
        "CN",
        "工信部域名注册服务机构许可（江苏邦宁）",
    ),
    Registrar(471, "Bizcn.com, Inc.", "CN", "工信部域名注册服务机构许可（商务中国）"),
    Registrar(1316, "35 Technology Co., Ltd.", "CN", "工信部域名注册服务机构许可（三五互联）"),
    Registrar(146, "GoDaddy.com, LLC", "US", None),
    Registrar(1068, "NameCheap, Inc.", "US", None),
    Registrar(2, "Network Solutions, LLC", "US", None),
    Registrar(69, "Tucows Domains Inc.", "CA", None),
    Registrar(48, "eNom, LLC", "US", None),
    Registrar(81, "Gandi SAS", "FR", None),
    Registrar(472, "Dynadot Inc", "US", None),
    Registrar(1479, "NameSilo, LLC", "US", None),
    Registrar(1861, "Porkbun LLC", "US", None),
    Registrar(1910, "Cloudflare, Inc.", "US", None),
    Registrar(303, "PDR Ltd. d/b/a PublicDomainRegistry.com", "IN", None),
)
DOMESTIC_REGISTRARS = tuple(r for r in REGISTRARS if r.cn_licence)
OVERSEAS_REGISTRARS = tuple(r for r in REGISTRARS if not r.cn_licence)

# The three basic carriers' provincial branches and the ISP label ip2region uses.
CARRIERS: tuple[tuple[str, str, str], ...] = (
    ("中国电信股份有限公司{province}分公司", "电信", "中国电信集团有限公司"),
    ("中国联合网络通信有限公司{province}省分公司", "联通", "中国联合网络通信集团有限公司"),
    ("中国移动通信集团{province}有限公司", "移动", "中国移动通信集团有限公司"),
)
# Access providers (IDC / cloud), by size: name pattern and share of hosted services.
ACCESS_PROVIDER_PATTERNS = (
    "{city}{core}云计算有限公司",
    "{city}{core}数据科技有限公司",
    "{province}{core}信息港有限公司",
    "{city}{core}网络科技有限公司",
    "{city}{core}数据中心有限公司",
)
KEY_UNITS: tuple[tuple[str, str, str], ...] = (
    ("{city}银行股份有限公司", "bank", "com.cn"),
    ("{city}农村商业银行股份有限公司", "rcb", "com"),
    ("{city}供电公司", "power", "com.cn"),
    ("{city}自来水有限公司", "water", "com"),
    ("{city}市人民医院", "hospital", "cn"),
    ("{city}地铁集团有限公司", "metro", "com"),
    ("{city}燃气集团有限公司", "gas", "com.cn"),
    ("{city}机场集团有限公司", "airport", "com"),
)
# Well-known brands protected against look-alikes, beside key units' own domains.
BRANDS = (
    "icbc.com.cn",
    "ccb.com",
    "boc.cn",
    "abchina.com",
    "bankcomm.com",
    "cmbchina.com",
    "alipay.com",
    "taobao.com",
    "jd.com",
    "10086.cn",
    "chinamobile.com",
    "189.cn",
    "chinaunicom.com.cn",
    "12306.cn",
    "chinatax.gov.cn",
)
LOOKALIKE_KEYWORDS = ("login", "secure", "vip", "app", "kefu", "service", "pay", "online")

# Overseas and other-province addresses for sites hosted outside the province.
OUTSIDE_PROVINCES = ("广东", "浙江", "上海", "北京")
CDN_NAMES = ("cdn", "kunlun", "dnsv1", "cdn20")
