"""What the demo holds (``manage.py load_demo``, built by ``demo.registrations``): regions at risk,
checkpoints of every kind around Jiaozuo, companies, drivers, vehicles, one user per role and
trips whose passes show every colour and every status."""

from __future__ import annotations

from dataclasses import dataclass

from places.models import RiskLevel
from trucks.models import (
    CargoCategory,
    TestResult,
)
from trucks.roles import Role
from trucks.services import PersonData
from trucks.validators import id_number_check_character, uscc_check_character

# Published in the README and printed by the command: the command refuses to run where DEBUG
# is off unless forced, so these accounts never reach production by accident.
PASSWORD = "passcode-demo"  # noqa: S105


def _id_number(region: str, birth: str, seq: str) -> str:
    first17 = region + birth + seq
    return first17 + id_number_check_character(first17)


def _uscc(region: str, organisation: str) -> str:
    # 9 = registered by the market regulator, 1 = enterprise; then the region and the
    # organisation code (GB 32100-2015).
    first17 = "91" + region + organisation
    return first17 + uscc_check_character(first17)


RISK_LEVELS: dict[str, str] = {
    "320412": RiskLevel.MEDIUM,  # 常州市武进区
    "140427": RiskLevel.HIGH,  # 长治市壶关县
}


@dataclass(frozen=True)
class CheckpointSpec:
    code: str
    name: str
    kind: str
    region: str
    latitude: str
    longitude: str


CHECKPOINTS: tuple[CheckpointSpec, ...] = (
    CheckpointSpec(
        "JZ-G55-N", "二广高速焦作北收费站", "highway_exit", "410811", "35.27710", "113.24140"
    ),
    CheckpointSpec(
        "JZ-G207-WZ", "G207国道武陟詹店检查站", "national_road", "410823", "35.05920", "113.35870"
    ),
    CheckpointSpec(
        "JZ-S233-QY", "S233省道沁阳紫陵检查站", "provincial_road", "410882", "35.12450", "112.86810"
    ),
    CheckpointSpec(
        "JZ-RAIL-JZ", "焦作站货场查验点", "railway_station", "410802", "35.21590", "113.23880"
    ),
    CheckpointSpec(
        "JZ-PARK-01", "焦作国际物流园卡口", "logistics_park", "410811", "35.25360", "113.27520"
    ),
    CheckpointSpec(
        "ZZ-CGO-CARGO", "郑州新郑国际机场货运区查验点", "airport", "410173", "34.52780", "113.84090"
    ),
    CheckpointSpec("EL-PORT", "二连浩特公路口岸", "land_port", "152501", "43.65230", "111.97810"),
)


# Where the demo's staff account is also a supervisor (may override a refusal, in writing).
SUPERVISED_CHECKPOINT = "JZ-G55-N"


@dataclass(frozen=True)
class CompanySpec:
    key: str
    name: str
    uscc: str
    contact_name: str
    contact_phone: str
    address: str
    is_consignee: bool = False
    # The company's whitelist entry, when it has one: its reason, the plates and cargo
    # categories it covers (none named: all), and whether its trucks take the priority lane.
    whitelist_reason: str = ""
    whitelist_plates: tuple[str, ...] = ()
    whitelist_cargo: tuple[str, ...] = ()
    priority_lane: bool = False


CARRIER = CompanySpec(
    "carrier",
    "焦作市顺达物流运输有限公司",
    _uscc("410811", "MA44R7KX2"),
    "王建军",
    "13903910001",
    "河南省焦作市山阳区焦作国际物流园东区8号",
)
WHITELISTED = CompanySpec(
    "whitelisted",
    "河南豫北保供物资配送有限公司",
    _uscc("410802", "MA46C2UL8"),
    "刘桂英",
    "13703910002",
    "河南省焦作市解放区建设西路168号",
    whitelist_reason="保供企业：城市生活必需品保障运输（市指挥部保供白名单第3批）",
    whitelist_plates=("豫HB6620",),
    whitelist_cargo=(CargoCategory.DAILY_NECESSITIES, CargoCategory.MEDICAL),
    priority_lane=True,
)
PARK = CompanySpec(
    "park",
    "焦作国际物流园运营管理有限公司",
    _uscc("410811", "MA47H3D95"),
    "陈晓燕",
    "13803910003",
    "河南省焦作市山阳区新园路与迎宾路交叉口",
    is_consignee=True,
)
SUPERMARKET = CompanySpec(
    "supermarket",
    "焦作市惠民超市配送中心有限公司",
    _uscc("410802", "MA48B6N1E"),
    "赵丽",
    "15903910004",
    "河南省焦作市解放区丰收路299号",
    is_consignee=True,
)
COMPANIES = (CARRIER, WHITELISTED, PARK, SUPERMARKET)
# The whitelist entry began this long ago and lasts this long from now.
WHITELISTED_SINCE_DAYS = 7
WHITELIST_DAYS = 90

# The driver who signs in as `driver`; the others have no account (they open passes by link).
ZHANG = PersonData("张建国", _id_number("410811", "19780315", "031"), "13839101234")
LI = PersonData("李卫东", _id_number("320412", "19820708", "052"), "13915012345")
WANG = PersonData("王海涛", _id_number("140427", "19850211", "017"), "13513567890")
ZHAO = PersonData("赵志刚", _id_number("410823", "19900923", "075"), "15803910088")
CHEN = PersonData("陈永刚", _id_number("410882", "19760105", "113"), "13703910456")
WU = PersonData("吴国庆", _id_number("410804", "19880814", "096"), "18803910567")
SUN = PersonData("孙红军", _id_number("410802", "19810419", "046"), "18603910321")
ZHOU = PersonData("周小勇", _id_number("410811", "19950630", "028"), "17603910678")

CARRIER_DRIVERS = (ZHANG, LI, WANG, ZHAO, CHEN, WU)
VEHICLES: dict[str, tuple[str, str]] = {
    # plate: (company key, description)
    "豫H12345D": ("carrier", "纯电动重型厢式货车 18 吨"),
    "豫HA8821": ("carrier", "重型半挂牵引车"),
    "豫H77889": ("carrier", "重型自卸货车"),
    "豫H60318": ("carrier", "冷藏厢式货车 9.6 米"),
    "豫H52K07": ("carrier", "重型厢式货车"),
    "豫HC3158": ("carrier", "中型厢式货车"),
    "豫H36912": ("carrier", "轻型厢式货车"),
    "豫H41926": ("carrier", "重型仓栅式货车"),
    "豫HB6620": ("whitelisted", "保供专用厢式货车"),
}


@dataclass(frozen=True)
class UserSpec:
    username: str
    role: str
    first_name: str
    acts_for: str


USERS: tuple[UserSpec, ...] = (
    UserSpec("driver", Role.DRIVER, "张建国", f"driver of {CARRIER.name}, truck 豫H12345D"),
    UserSpec("dispatcher", Role.DISPATCHER, "王建军", CARRIER.name),
    UserSpec("dispatcher2", Role.DISPATCHER, "刘桂英", f"{WHITELISTED.name} (whitelisted)"),
    UserSpec("consignee", Role.CONSIGNEE, "陈晓燕", PARK.name),
    UserSpec("staff", Role.STAFF, "马卡口", "every demo checkpoint, supervisor at JZ-G55-N"),
    UserSpec("official", Role.OFFICIAL, "指挥部", "dashboards, risk levels, whitelist, policy"),
    UserSpec("admin", Role.ADMIN, "管理员", "Django admin at /admin/ (superuser)"),
)

JIAOZUO_PARK = ("焦作国际物流园", "河南省焦作市山阳区新园路与迎宾路交叉口 A3 仓")
SUPERMARKET_DC = ("惠民超市焦作配送中心", "河南省焦作市解放区丰收路299号")
POWER_PLANT = ("焦作市中站区热电厂", "河南省焦作市中站区冯封办事处")
BUILDING_MARKET = ("焦作市山阳区建材市场", "河南省焦作市山阳区中原路南段")


@dataclass(frozen=True)
class TripSpec:
    """One demo trip. Hours count from the start of the current hour; ``shift_hours`` moves the
    whole trip (times, test, pass window) after registration, into the past."""

    label: str
    actor: str
    plate: str
    driver: PersonData | None  # None: the acting driver's own profile
    origin: str
    checkpoint: str
    arrival_hours: int
    stay_hours: int
    cargo_category: str
    cargo_description: str
    test_result: str
    sampled_hours: int | None
    destination: tuple[str, str]
    consignee: str | None = None
    travel_history: tuple[str, ...] = ()
    co_riders: tuple[PersonData, ...] = ()
    multi_entry: bool = False
    outcome: str = "active"  # active, cancelled, inside, arrived, expired, completed
    shift_hours: int = 0


NEG = TestResult.NEGATIVE
# The red trip's window is open now, so a demo scan meets its red code rather than "not yet
# valid"; the trips in the past ended within the last day, so their scans can be recorded through
# the real scan service, which judges a scan synced more than a day late at the time it arrives
# (``demo.scans``).
# fmt: off
# Positional fields: label, actor, plate, driver, origin, checkpoint, arrival and stay hours,
# cargo category and description, test result and sample hour, destination (name, address).
TRIPS: tuple[TripSpec, ...] = (
    TripSpec(
        "green", "dispatcher", "豫H12345D", ZHANG, "410184", "JZ-G55-N", 3, 20,
        CargoCategory.DAILY_NECESSITIES, "新鲜蔬菜 18 吨（白菜、土豆）", NEG, -6, JIAOZUO_PARK,
        consignee="park", co_riders=(ZHOU,),
    ),
    TripSpec(
        "yellow (medium-risk origin)", "dispatcher", "豫HA8821", LI, "320412", "JZ-G207-WZ", 5,
        10, CargoCategory.PRODUCTION, "汽车零部件 26 吨（武进发货）", NEG, -10, SUPERMARKET_DC,
        consignee="supermarket",
    ),
    TripSpec(
        "yellow (no test)", "driver", "豫H12345D", None, "410882", "JZ-S233-QY", 30, 10,
        CargoCategory.AGRICULTURAL, "怀山药、怀菊花 12 吨", TestResult.NONE, None, JIAOZUO_PARK,
        consignee="park",
    ),
    TripSpec(
        "red (high-risk travel)", "dispatcher", "豫H77889", WANG, "410882", "JZ-S233-QY", 2, 12,
        CargoCategory.ENERGY, "焦煤 32 吨（途经壶关）", NEG, -12, POWER_PLANT,
        travel_history=("140427",),
    ),
    TripSpec(
        "red (positive test)", "dispatcher", "豫H60318", ZHAO, "410823", "JZ-RAIL-JZ", 8, 12,
        CargoCategory.COLD_CHAIN, "冷冻肉类 8 吨", TestResult.POSITIVE, -20, SUPERMARKET_DC,
        consignee="supermarket",
    ),
    TripSpec(
        "multi-entry (whitelisted)", "dispatcher2", "豫HB6620", SUN, "410802", "JZ-G55-N", 2,
        6 * 24, CargoCategory.DAILY_NECESSITIES, "保供物资：米面粮油、方便食品（多次往返）",
        NEG, -4, SUPERMARKET_DC, consignee="supermarket", multi_entry=True,
    ),
    TripSpec(
        "inside", "dispatcher", "豫H52K07", CHEN, "410184", "JZ-G55-N", 4, 8,
        CargoCategory.MEDICAL, "医用防护服、口罩 5 吨", NEG, -6, JIAOZUO_PARK,
        consignee="park", outcome="inside", shift_hours=-5,
    ),
    TripSpec(
        "arrived", "dispatcher", "豫HC3158", WU, "410821", "JZ-PARK-01", 4, 10,
        CargoCategory.POSTAL, "快递包裹 3,200 件", NEG, -8, JIAOZUO_PARK,
        consignee="park", outcome="arrived", shift_hours=-7,
    ),
    TripSpec(
        "cancelled", "dispatcher", "豫H36912", CHEN, "410184", "JZ-G207-WZ", 36, 8,
        CargoCategory.GENERAL, "日用百货 6 吨（已取消）", NEG, -3, SUPERMARKET_DC,
        consignee="supermarket", outcome="cancelled",
    ),
    TripSpec(
        "expired", "dispatcher", "豫H41926", WANG, "410882", "JZ-G207-WZ", 6, 8,
        CargoCategory.GENERAL, "建材 20 吨（未按时到达）", NEG, -6, BUILDING_MARKET,
        outcome="expired", shift_hours=-(3 * 24 + 6),
    ),
    TripSpec(
        "completed", "dispatcher", "豫H12345D", ZHANG, "410184", "JZ-G55-N", 45, 5,
        CargoCategory.DAILY_NECESSITIES, "面粉 15 吨", NEG, -2, JIAOZUO_PARK,
        consignee="park", outcome="completed", shift_hours=-(45 + 20),
    ),
)
# fmt: on

# Every region the demo names; the command refuses to run until load_regions has loaded them.
REQUIRED_REGIONS: frozenset[str] = frozenset(
    {*RISK_LEVELS, *(c.region for c in CHECKPOINTS)}
    | {t.origin for t in TRIPS}
    | {code for t in TRIPS for code in t.travel_history}
)
