"""Who talks to sandbox accounts, and what they say, in English, Thai, Khmer, Armenian, Swahili.

Each persona writes in one language. `{handle}` in a line is replaced by the sandbox
account's own name on its network (a mention). The lines are short and informal, the way
customers write to a café or a shop on social media: praise, questions, complaints.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Persona:
    name: str
    username: str  # Mastodon username; the Bluesky handle is `<username>.sandbox`
    language: str

    @property
    def bluesky_handle(self) -> str:
        return f"{self.username.replace('_', '-')}.sandbox"


PERSONAS = (
    Persona("Jess Carter", "jesscarter", "en"),
    Persona("Tom Nguyen", "tomnguyen", "en"),
    Persona("ณัฐชา ศรีวงศ์", "natcha_sw", "th"),
    Persona("ธนพล แก้วใส", "thanapon_k", "th"),
    Persona("សុខា ចាន់", "sokha_chan", "km"),
    Persona("វណ្ណា ម៉ៅ", "vanna_mao", "km"),
    Persona("Անի Սարգսյան", "ani_sargsyan", "hy"),
    Persona("Արամ Հովհաննիսյան", "aram_hov", "hy"),
    Persona("Amina Odhiambo", "amina_o", "sw"),
    Persona("Juma Kiptoo", "juma_kiptoo", "sw"),
)

# kind -> language -> lines. Replies and quotes answer one of the account's posts; mentions
# name the account in a post of their own; direct messages are private.
LINES: dict[str, dict[str, tuple[str, ...]]] = {
    "reply": {
        "en": (
            "Tried this yesterday, so good! ☕",
            "What time do you open on Sundays?",
            "Is the cold brew back for good? 🙏",
            "My order arrived late again, can someone check? #help",
        ),
        "th": (
            "เมื่อวานไปลองมาแล้ว อร่อยมากค่ะ ☕",
            "วันอาทิตย์เปิดกี่โมงครับ",
            "โคลด์บรูว์กลับมาแล้วใช่ไหมคะ 🙏",
            "ออเดอร์มาช้าอีกแล้ว ช่วยเช็กให้หน่อยได้ไหมครับ",
        ),
        "km": (
            "ម្សិលមិញខ្ញុំបានសាកហើយ ឆ្ងាញ់ណាស់ ☕",
            "ថ្ងៃអាទិត្យបើកម៉ោងប៉ុន្មាន?",
            "កាហ្វេត្រជាក់ត្រឡប់មកវិញហើយមែនទេ? 🙏",
            "ការបញ្ជាទិញរបស់ខ្ញុំមកយឺតទៀតហើយ សូមជួយពិនិត្យផង",
        ),
        "hy": (
            "Երեկ փորձեցի, շատ համով էր ☕",
            "Կիրակի օրերին ժամը քանիսի՞ն եք բացվում",
            "Սառը սուրճը վերադարձե՞լ է 🙏",
            "Պատվերս նորից ուշացավ, կստուգե՞ք, խնդրում եմ",
        ),
        "sw": (
            "Nimejaribu jana, ni tamu sana ☕",
            "Jumapili mnafungua saa ngapi?",
            "Cold brew imerudi kabisa? 🙏",
            "Oda yangu imechelewa tena, mnaweza kuangalia tafadhali?",
        ),
    },
    "mention": {
        "en": (
            "Best iced latte in town, thanks {handle}!",
            "{handle} do you deliver to the airport area?",
            "Meeting friends at {handle} this afternoon 😊 #coffee",
            "Hey {handle}, the card machine was down today.",
        ),
        "th": (
            "ลาเต้เย็นของ {handle} ดีที่สุดในเมืองเลย ขอบคุณนะคะ",
            "{handle} ส่งถึงแถวสนามบินไหมครับ",
            "บ่ายนี้นัดเพื่อนที่ {handle} 😊 #กาแฟ",
            "{handle} วันนี้รูดบัตรไม่ได้นะคะ",
        ),
        "km": (
            "ឡាតេទឹកកករបស់ {handle} ល្អបំផុតក្នុងក្រុង អរគុណ!",
            "{handle} តើដឹកជញ្ជូនដល់តំបន់អាកាសយានដ្ឋានទេ?",
            "រសៀលនេះជួបមិត្តភក្តិនៅ {handle} 😊 #កាហ្វេ",
            "{handle} ថ្ងៃនេះម៉ាស៊ីនកាតខូចហើយ",
        ),
        "hy": (
            "Շնորհակալություն {handle}, լատեն հիանալի էր",
            "{handle} օդանավակայանի կողմը առաքում ունե՞ք",
            "Այսօր ընկերներիս հետ գնում ենք {handle} 😊 #սուրճ",
            "{handle} այսօր քարտով վճարել չստացվեց",
        ),
        "sw": (
            "Latte baridi bora mjini ni ya {handle}, asanteni!",
            "{handle} mnaleta hadi eneo la uwanja wa ndege?",
            "Nakutana na marafiki kwa {handle} mchana huu 😊 #kahawa",
            "{handle} mashine ya kadi haikufanya kazi leo.",
        ),
    },
    "quote": {
        "en": (
            "This! Can't wait to try it 😍",
            "Finally something new on the menu",
            "Who's coming with me this weekend?",
            "Hmm, prices went up again?",
        ),
        "th": (
            "อันนี้เลย! อยากลองมาก 😍",
            "ในที่สุดก็มีเมนูใหม่",
            "เสาร์อาทิตย์นี้ใครไปด้วยกันบ้าง",
            "ขึ้นราคาอีกแล้วเหรอ",
        ),
        "km": (
            "នេះហើយ! ចង់សាកណាស់ 😍",
            "ទីបំផុតមានម៉ឺនុយថ្មីហើយ",
            "ចុងសប្តាហ៍នេះ អ្នកណាទៅជាមួយខ្ញុំ?",
            "ឡើងថ្លៃទៀតហើយមែនទេ?",
        ),
        "hy": (
            "Ահա՛ սա։ Շատ եմ ուզում փորձել 😍",
            "Վերջապես նոր բան մենյուում",
            "Այս հանգստյան օրերին ո՞վ է գալիս ինձ հետ",
            "Գները նորի՞ց բարձրացան",
        ),
        "sw": (
            "Hii sasa! Siwezi kusubiri kuijaribu 😍",
            "Hatimaye kuna kitu kipya kwenye menyu",
            "Nani anakuja nami wikendi hii?",
            "Bei zimepanda tena?",
        ),
    },
    "direct_message": {
        "en": (
            "Hi, I was charged twice for order #4821, can you help?",
            "Hello! Do you have vegan pastries?",
            "Can I book the upstairs room for 12 people on Friday?",
            "Thanks for the quick reply yesterday, all sorted now.",
        ),
        "th": (
            "สวัสดีค่ะ ออเดอร์ #4821 โดนตัดเงินสองครั้ง ช่วยดูให้หน่อยได้ไหมคะ",
            "มีขนมวีแกนไหมครับ",
            "วันศุกร์จองห้องชั้นบนสำหรับ 12 คนได้ไหมคะ",
            "ขอบคุณที่ตอบเร็วเมื่อวานนะครับ เรียบร้อยแล้ว",
        ),
        "km": (
            "សួស្តី ការបញ្ជាទិញ #4821 ត្រូវបានកាត់លុយពីរដង សូមជួយផង",
            "មាននំសម្រាប់អ្នកតមសាច់ទេ?",
            "ថ្ងៃសុក្រ អាចកក់បន្ទប់ខាងលើសម្រាប់ ១២ នាក់បានទេ?",
            "អរគុណដែលឆ្លើយតបលឿនកាលពីម្សិលមិញ ឥឡូវរួចរាល់ហើយ",
        ),
        "hy": (
            "Բարև ձեզ, #4821 պատվերի համար գումարը երկու անգամ է գանձվել, կօգնե՞ք",
            "Բուսական թխվածքներ ունե՞ք",
            "Ուրբաթ օրը վերևի սրահը 12 հոգու համար կարո՞ղ եմ ամրագրել",
            "Շնորհակալություն երեկվա արագ պատասխանի համար, ամեն ինչ կարգավորվեց",
        ),
        "sw": (
            "Habari, nimekatwa pesa mara mbili kwa oda #4821, mnaweza kunisaidia?",
            "Mambo! Mna keki zisizo na bidhaa za wanyama?",
            "Naweza kuhifadhi chumba cha juu kwa watu 12 Ijumaa?",
            "Asanteni kwa kujibu haraka jana, tatizo limeisha.",
        ),
    },
}
