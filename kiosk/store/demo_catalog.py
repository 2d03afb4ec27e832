"""A believable small Chinese convenience store: 110 products for the demo and tests.

Barcodes are EAN-13 with a GS1 China prefix (690-699), a made-up company
number per brand group and a correct check digit.
"""

from kiosk.domain.barcode import ean13_check_digit
from kiosk.domain.money import parse_yuan

# (category code, zh, en), then products: (name_zh, name_en, price in yuan)
CATEGORIES = {
    "drinks": ("饮料", "Drinks"),
    "dairy": ("乳制品", "Dairy"),
    "snacks": ("零食", "Snacks"),
    "instant": ("方便食品", "Instant food"),
    "grain": ("粮油调味", "Grain, oil & seasoning"),
    "alcohol": ("酒类", "Alcohol"),
    "daily": ("日用百货", "Household"),
    "care": ("个人护理", "Personal care"),
    "stationery": ("文具", "Stationery"),
    "frozen": ("冷冻食品", "Frozen food"),
}

_PRODUCTS: dict[str, list[tuple[str, str, str]]] = {
    "drinks": [
        ("农夫山泉 550ml", "Nongfu Spring water 550ml", "2.00"),
        ("怡宝纯净水 555ml", "C'estbon water 555ml", "2.00"),
        ("可口可乐 330ml", "Coca-Cola 330ml can", "3.00"),
        ("百事可乐 500ml", "Pepsi 500ml", "3.50"),
        ("雪碧 500ml", "Sprite 500ml", "3.50"),
        ("康师傅冰红茶 500ml", "Master Kong iced tea 500ml", "3.00"),
        ("统一绿茶 500ml", "Uni-President green tea 500ml", "3.00"),
        ("王老吉 310ml", "Wong Lo Kat herbal tea 310ml", "4.00"),
        ("加多宝 310ml", "JDB herbal tea 310ml", "4.00"),
        ("红牛维生素功能饮料 250ml", "Red Bull 250ml", "6.00"),
        ("东方树叶乌龙茶 500ml", "Oriental Leaf oolong tea 500ml", "5.00"),
        ("元气森林白桃气泡水 480ml", "Genki Forest peach soda 480ml", "5.50"),
        ("美汁源果粒橙 420ml", "Minute Maid orange pulp 420ml", "4.00"),
        ("脉动青柠味 600ml", "Mizone lime 600ml", "5.00"),
        ("雀巢咖啡丝滑拿铁 268ml", "Nescafé latte 268ml", "7.00"),
        ("维他柠檬茶 250ml", "Vita lemon tea 250ml", "3.50"),
        ("椰树椰汁 245ml", "Coconut Palm coconut juice 245ml", "4.50"),
        ("六个核桃 240ml", "Six Walnuts drink 240ml", "4.50"),
    ],
    "dairy": [
        ("蒙牛纯牛奶 250ml", "Mengniu whole milk 250ml", "3.50"),
        ("伊利纯牛奶 250ml", "Yili whole milk 250ml", "3.50"),
        ("特仑苏有机奶 250ml", "Telunsu organic milk 250ml", "6.50"),
        ("安慕希希腊酸奶 205g", "Ambrosial Greek yogurt 205g", "6.00"),
        ("光明优倍鲜牛奶 950ml", "Bright fresh milk 950ml", "16.80"),
        ("养乐多 5瓶装", "Yakult 5-pack", "11.50"),
        ("旺仔牛奶 245ml", "Want Want milk 245ml", "5.00"),
        ("君乐宝简醇酸奶 150g", "Junlebao plain yogurt 150g", "5.50"),
        ("AD钙奶 220g", "AD calcium milk 220g", "3.00"),
    ],
    "snacks": [
        ("乐事原味薯片 70g", "Lay's classic chips 70g", "7.50"),
        ("乐事黄瓜味薯片 70g", "Lay's cucumber chips 70g", "7.50"),
        ("奥利奥夹心饼干 97g", "Oreo cookies 97g", "6.90"),
        ("旺旺雪饼 84g", "Want Want rice crackers 84g", "6.00"),
        ("卫龙辣条 106g", "Weilong spicy strips 106g", "5.00"),
        ("德芙丝滑牛奶巧克力 43g", "Dove milk chocolate 43g", "8.90"),
        ("士力架花生夹心 51g", "Snickers 51g", "5.50"),
        ("好丽友派 6枚", "Orion Choco Pie 6-pack", "12.90"),
        ("三只松鼠每日坚果 25g", "Three Squirrels daily nuts 25g", "5.90"),
        ("良品铺子猪肉脯 100g", "Bestore pork jerky 100g", "19.90"),
        ("洽洽香瓜子 260g", "ChaCha sunflower seeds 260g", "10.90"),
        ("大白兔奶糖 114g", "White Rabbit candy 114g", "9.90"),
        ("绿箭口香糖 5片", "Doublemint gum 5 sticks", "2.50"),
        ("益达木糖醇 40粒", "Extra xylitol gum 40 pcs", "11.90"),
        ("旺仔QQ糖 70g", "Want Want gummies 70g", "3.50"),
        ("上好佳鲜虾片 40g", "Oishi prawn crackers 40g", "3.00"),
        ("徐福记沙琪玛 160g", "Hsu Fu Chi sachima 160g", "8.50"),
        ("盼盼法式小面包 200g", "Panpan French rolls 200g", "9.90"),
        ("康师傅3+2苏打夹心饼干 125g", "Master Kong 3+2 crackers 125g", "6.50"),
        ("周黑鸭鸭脖 170g", "Zhou Hei Ya duck neck 170g", "29.90"),
    ],
    "instant": [
        ("康师傅红烧牛肉面 桶装", "Master Kong braised beef noodles cup", "5.00"),
        ("统一老坛酸菜牛肉面 桶装", "Uni-President pickled cabbage noodles cup", "5.00"),
        ("今麦郎一菜一面", "Jinmailang noodle & veg", "4.50"),
        ("白象汤好喝方便面 5连包", "Baixiang noodles 5-pack", "14.90"),
        ("海底捞自热火锅 435g", "Haidilao self-heating hot pot 435g", "39.90"),
        ("螺霸王螺蛳粉 280g", "Luobawang river snail noodles 280g", "13.90"),
        ("双汇王中王火腿肠 8支", "Shuanghui ham sausage 8 sticks", "12.50"),
        ("梅林午餐肉罐头 340g", "Maling luncheon meat 340g", "16.90"),
        ("银鹭好粥道八宝粥 280g", "Yinlu eight-treasure congee 280g", "4.50"),
        ("三全水饺 猪肉白菜 450g", "Synear pork & cabbage dumplings 450g", "16.90"),
    ],
    "grain": [
        ("金龙鱼调和油 1.8L", "Arawana blended oil 1.8L", "29.90"),
        ("福临门大米 5kg", "Fortune rice 5kg", "39.90"),
        ("海天金标生抽 500ml", "Haday premium soy sauce 500ml", "9.90"),
        ("海天老抽王 500ml", "Haday dark soy sauce 500ml", "10.90"),
        ("恒顺香醋 500ml", "Hengshun black vinegar 500ml", "8.50"),
        ("老干妈风味豆豉 280g", "Lao Gan Ma chili in oil 280g", "12.50"),
        ("太太乐鸡精 200g", "Totole chicken bouillon 200g", "9.80"),
        ("中盐精制食盐 400g", "China Salt table salt 400g", "2.50"),
        ("金沙河挂面 1kg", "Jinshahe dried noodles 1kg", "8.90"),
        ("李锦记蚝油 510g", "Lee Kum Kee oyster sauce 510g", "13.50"),
        ("郫县豆瓣酱 500g", "Pixian chili bean paste 500g", "9.90"),
        ("太古白砂糖 454g", "Taikoo white sugar 454g", "7.90"),
    ],
    "alcohol": [
        ("青岛啤酒经典 500ml", "Tsingtao classic beer 500ml", "5.50"),
        ("雪花勇闯天涯 500ml", "Snow Brave the World beer 500ml", "5.00"),
        ("哈尔滨啤酒 330ml", "Harbin beer 330ml", "3.50"),
        ("百威啤酒 500ml", "Budweiser 500ml", "7.50"),
        ("红星二锅头 500ml", "Red Star erguotou 500ml", "22.00"),
        ("牛栏山陈酿 500ml", "Niulanshan aged baijiu 500ml", "18.00"),
        ("江小白 100ml", "Jiang Xiaobai 100ml", "20.00"),
        ("锐澳鸡尾酒 蓝莓味 330ml", "RIO cocktail blueberry 330ml", "9.90"),
    ],
    "daily": [
        ("清风抽纸 3包", "Breeze facial tissue 3-pack", "12.90"),
        ("维达卷纸 10卷", "Vinda toilet rolls 10", "29.90"),
        ("心相印湿巾 10片", "Mind Act Upon Mind wet wipes 10", "3.50"),
        ("立白洗洁精 1kg", "Liby dish soap 1kg", "11.90"),
        ("蓝月亮洗衣液 1kg", "Bluemoon laundry liquid 1kg", "24.90"),
        ("超能洗衣粉 1.5kg", "Chaoneng washing powder 1.5kg", "19.90"),
        ("南孚5号电池 4粒", "Nanfu AA batteries 4", "13.90"),
        ("南孚7号电池 4粒", "Nanfu AAA batteries 4", "13.90"),
        ("妙洁保鲜袋 中号", "Miaojie food bags medium", "9.90"),
        ("一次性雨衣", "Disposable raincoat", "5.00"),
        ("打火机", "Lighter", "2.00"),
        ("垃圾袋 50只", "Garbage bags 50", "6.90"),
        ("晴天雨伞 折叠", "Folding umbrella", "29.00"),
    ],
    "care": [
        ("高露洁牙膏 140g", "Colgate toothpaste 140g", "12.90"),
        ("云南白药牙膏 120g", "Yunnan Baiyao toothpaste 120g", "25.90"),
        ("佳洁士牙刷", "Crest toothbrush", "8.90"),
        ("海飞丝洗发水 200ml", "Head & Shoulders shampoo 200ml", "29.90"),
        ("舒肤佳香皂 115g", "Safeguard soap 115g", "5.90"),
        ("六神花露水 195ml", "Liushen floral water 195ml", "13.90"),
        ("大宝SOD蜜 100ml", "Dabao SOD lotion 100ml", "11.90"),
        ("苏菲卫生巾 日用 10片", "Sofy pads day 10", "15.90"),
        ("曼秀雷敦润唇膏", "Mentholatum lip balm", "19.90"),
        ("3M口罩 10只", "3M face masks 10", "19.90"),
        ("创可贴 20片", "Adhesive bandages 20", "6.50"),
    ],
    "stationery": [
        ("晨光中性笔 黑色", "M&G gel pen black", "2.50"),
        ("得力笔记本 A5", "Deli notebook A5", "6.90"),
        ("得力胶棒 21g", "Deli glue stick 21g", "3.50"),
        ("晨光修正带", "M&G correction tape", "5.00"),
        ("透明胶带 48mm", "Clear packing tape 48mm", "4.00"),
    ],
    "frozen": [
        ("伊利巧乐兹 冰淇淋", "Yili Qiaolezi ice cream", "5.00"),
        ("蒙牛随变 冰淇淋", "Mengniu Suibian ice cream", "4.00"),
        ("和路雪可爱多 甜筒", "Wall's Cornetto", "6.00"),
        ("钟薛高 雪糕", "Chicecream bar", "15.00"),
        ("思念汤圆 黑芝麻 500g", "Synear black sesame tangyuan 500g", "13.90"),
        ("湾仔码头 虾仁水饺 300g", "Wanchai Ferry shrimp dumplings 300g", "26.90"),
    ],
}

_SKU_PREFIX = {
    "drinks": "DRK",
    "dairy": "DRY",
    "snacks": "SNK",
    "instant": "INS",
    "grain": "GRN",
    "alcohol": "ALC",
    "daily": "HOU",
    "care": "CAR",
    "stationery": "STA",
    "frozen": "FRZ",
}

_COMPANY = {
    "drinks": "6901",
    "dairy": "6902",
    "snacks": "6903",
    "instant": "6904",
    "grain": "6905",
    "alcohol": "6906",
    "daily": "6907",
    "care": "6908",
    "stationery": "6909",
    "frozen": "6910",
}


def demo_products() -> list[dict[str, object]]:
    """The demo catalog as rows for the Product table."""
    rows: list[dict[str, object]] = []
    for category, items in _PRODUCTS.items():
        for i, (name_zh, name_en, price) in enumerate(items, start=1):
            body = f"{_COMPANY[category]}{i * 37 + 1000:05d}{len(rows):03d}"[:12]
            barcode = body + ean13_check_digit(body)
            rows.append(
                {
                    "sku": f"{_SKU_PREFIX[category]}-{i:03d}",
                    "barcode": barcode,
                    "name_zh": name_zh,
                    "name_en": name_en,
                    "price_fen": parse_yuan(price),
                    "category": category,
                }
            )
    return rows


# Items without a barcode: picked from the category grid, or (PLU-) weighed at the
# shop's scale, whose label carries the item code and price. A PLU product's
# price is per kilogram.
LOOSE_CATEGORIES = {
    "bakery": ("面包糕点", "Bakery"),
    "produce": ("蔬菜水果", "Fruit & veg"),
    "bags": ("购物袋", "Bags"),
}

_LOOSE: list[tuple[str, str, str, str, str]] = [
    ("BAK-001", "bakery", "菠萝包", "Pineapple bun", "5.00"),
    ("BAK-002", "bakery", "肉松面包", "Pork floss bun", "6.50"),
    ("BAK-003", "bakery", "全麦吐司", "Wholemeal toast", "12.00"),
    ("BAK-004", "bakery", "葡式蛋挞", "Egg tart", "4.50"),
    ("PRO-001", "produce", "甜玉米 1根", "Sweet corn, 1 ear", "3.00"),
    ("PRO-002", "produce", "土鸡蛋 10枚", "Free-range eggs, 10", "15.80"),
    ("PLU-00101", "produce", "香蕉（称重）", "Bananas (by weight)", "6.98"),
    ("PLU-00102", "produce", "红富士苹果（称重）", "Fuji apples (by weight)", "12.98"),
    ("PLU-00103", "produce", "西红柿（称重）", "Tomatoes (by weight)", "7.98"),
    ("BAG-001", "bags", "购物袋 大", "Shopping bag, large", "0.50"),
    ("BAG-002", "bags", "购物袋 小", "Shopping bag, small", "0.30"),
]


def demo_loose_products() -> list[dict[str, object]]:
    """Bakery, produce and bags without barcodes, as rows for the Product table."""
    return [
        {
            "sku": sku,
            "barcode": None,
            "name_zh": zh,
            "name_en": en,
            "price_fen": parse_yuan(price),
            "category": category,
        }
        for sku, category, zh, en, price in _LOOSE
    ]
