"""The demo district's people: schools, students and guardians drawn from small name lists.

Rates follow what North Carolina districts publish (about 45% economically disadvantaged, 14%
with disabilities, 10% English learners, 3% McKinney-Vento, 1% in foster care), so subgroup
pages in the demo show the gaps real ones do. Phone numbers use the fictional 555-01xx block
and email addresses the reserved example.com domain: nobody real is ever contacted.
"""

import datetime
import random
import re
import unicodedata

from districts.models import District, Role

from .models import GRADE_ORDER, GRADES, Guardian, Student

# (SIS id, name, lowest grade, highest grade, instructional minutes per day)
SCHOOLS = [
    ("ES-100", "Oak Grove Elementary School", "K", "5", 390),
    ("ES-110", "Riverside Elementary School", "K", "5", 390),
    ("MS-200", "Hawthorne Middle School", "6", "8", 420),
    ("HS-300", "Piedmont High School", "9", "12", 420),
]
SCHOOL_LEVELS = {"ES-100": "elementary", "ES-110": "elementary", "MS-200": "middle", "HS-300": "high"}

STAFF_NAMES = {
    Role.DISTRICT_ADMIN: ("Renee", "Alston"),
    Role.DISTRICT_STAFF: ("Marcus", "Bell"),
    Role.ATTENDANCE_LEAD: ("Tonya", "Greer"),
    Role.COUNSELOR: ("Luis", "Ortega"),
    Role.MENTOR: ("Karen", "Whitfield"),
}

# Cohorts shrink a little through high school, as they do in real enrollment counts.
GRADE_WEIGHTS = {grade: 1.0 for grade in GRADES[1:10]} | {"9": 1.1, "10": 1.05, "11": 0.95, "12": 0.9}

# home language: (share of students, student first names, last names, women's names, men's names)
NAMES = {
    "English": (
        68.0,
        "Ava Liam Olivia Noah Emma Elijah Charlotte James Amelia William Sophia Benjamin Mia Lucas Harper "
        "Henry Evelyn Theodore Abigail Jackson Ella Levi Scarlett Mason Aaliyah Jayden Zoe Isaiah Layla Malik "
        "Jasmine Darnell Imani Xavier Nevaeh Josiah Kennedy Caleb Brooklyn Wyatt Madison Carter Chloe Grayson",
        "Smith Johnson Williams Brown Jones Davis Miller Wilson Moore Taylor Anderson Thomas Jackson White Harris "
        "Martin Thompson Robinson Clark Lewis Walker Hall Allen Young King Wright Scott Green Baker Adams Nelson "
        "Hill Campbell Mitchell Carter Roberts Turner Parker Evans Edwards Collins Stewart Morris Murphy Cook "
        "Rogers Morgan Cooper Reed Bailey Bell Howard Ward Brooks Bennett Gray Hughes Price Sanders Foster "
        "Barnes Graham McDaniel Pope Boykin Locklear Oxendine",
        "Jennifer Jessica Ashley Sarah Amanda Tiffany Keisha Latoya Crystal Heather Nicole Tamika Rachel Megan",
        "Michael Christopher Joshua David Brandon Justin Marcus Andre Jason Ryan Terrence Kevin Travis Derrick",
    ),
    "Spanish": (
        21.0,
        "Sofía Mateo Valentina Santiago Camila Diego Isabella Sebastián Valeria Alejandro Ximena Daniel Lucía "
        "Gabriel Mariana Adrián Natalia Emiliano Daniela Leonardo Andrea Jesús Fernanda Carlos Paola Luis",
        "Garcia Rodriguez Martinez Hernandez Lopez Gonzalez Perez Sanchez Ramirez Torres Flores Rivera Gomez "
        "Diaz Cruz Morales Reyes Gutierrez Ortiz Chavez Ramos Mendoza Castillo Vasquez Jimenez Romero",
        "María Guadalupe Rosa Ana Carmen Leticia Verónica Yesenia Claudia Gabriela",
        "José Juan Miguel Luis Francisco Jorge Ricardo Eduardo Javier Raúl",
    ),
    "Vietnamese": (
        3.0,
        "Minh Anh Linh Khoa Thao Duc Hoa Quang Mai Tuan Ngoc Bao Trang Huy Lan Phuc",
        "Nguyen Tran Le Pham Hoang Phan Vu Dang Bui Do Ho Ngo Duong Ly",
        "Thi Hanh Lien Nga Phuong Thu",
        "Van Hung Dung Long Thanh Son",
    ),
    "Arabic": (
        2.5,
        "Omar Layla Yusuf Mariam Ahmed Fatima Ali Noor Hassan Amira Khalid Salma Ibrahim Huda Zain Rania",
        "Haddad Khalil Mansour Nasser Saleh Hamdan Aziz Rahman Farah Abboud Darwish Youssef",
        "Samira Leila Yasmin Nadia Hana Rana",
        "Mohammed Mahmoud Tariq Samir Walid Karim",
    ),
    "Mandarin": (
        2.5,
        "Wei Mei Jun Xin Hao Yan Jie Ling Chen Yu Ming Lei Hui Tao",
        "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu",
        "Xiu Fang Jing Hong Yan Li",
        "Jian Qiang Gang Bo Feng Hua",
    ),
    "Hindi": (
        1.5,
        "Aarav Ananya Vivaan Diya Arjun Saanvi Ishaan Priya Rohan Kavya",
        "Patel Sharma Singh Kumar Gupta Shah Reddy Mehta Rao Joshi",
        "Sunita Pooja Neha Anjali Rekha",
        "Rajesh Sanjay Amit Vikram Suresh",
    ),
    "Korean": (
        0.8,
        "Min-jun Seo-yeon Ji-ho Ha-eun Do-yun Ji-woo",
        "Kim Lee Park Choi Jung Kang Cho Yoon",
        "Eun-ji Soo-jin Mi-young Hye-jin",
        "Sung-min Jae-hyun Dong-hyun Young-ho",
    ),
    "French": (
        0.7,
        "Aminata Moussa Fatou Ibrahim Awa Mamadou Mariam Sekou",
        "Diallo Traoré Kouassi Mbaye Camara Touré",
        "Aminata Fatou Mariam Awa",
        "Moussa Ibrahima Mamadou Sekou",
    ),
}
NAME_LISTS = {language: [text.split() for text in lists[1:]] for language, lists in NAMES.items()}

WHITE, BLACK, HISPANIC, ASIAN, MULTI = (
    "White",
    "Black or African American",
    "Hispanic/Latino",
    "Asian",
    "Two or more races",
)
AMERICAN_INDIAN, PACIFIC = "American Indian or Alaska Native", "Native Hawaiian or Pacific Islander"
RACE_BY_LANGUAGE = {
    "English": ([WHITE, BLACK, HISPANIC, MULTI, ASIAN, AMERICAN_INDIAN, PACIFIC], [52, 33, 4, 7, 2, 1.5, 0.5]),
    "Spanish": ([HISPANIC, WHITE, MULTI], [96, 2, 2]),
    "Arabic": ([WHITE, MULTI, BLACK], [85, 10, 5]),
    "French": ([BLACK, WHITE, MULTI], [85, 10, 5]),
}
ASIAN_RACES = ([ASIAN, MULTI], [95, 5])
# English-learner odds among students whose home language is not English, by grade band:
# most reclassify as fluent by middle school.
ENGLISH_LEARNER_ODDS = {"K": 0.45, "1": 0.45, "2": 0.45, "3": 0.32, "4": 0.32, "5": 0.32, "6": 0.22, "7": 0.22}


def school_for_grade(rng: random.Random) -> tuple[str, str]:
    grade = rng.choices(list(GRADE_WEIGHTS), weights=list(GRADE_WEIGHTS.values()))[0]
    number = GRADE_ORDER[grade] - GRADE_ORDER["K"]
    if number <= 5:
        return grade, "ES-100" if rng.random() < 0.55 else "ES-110"
    return grade, "MS-200" if number <= 8 else "HS-300"


def demo_movements(rng: random.Random, school_sis_ids: list[str]) -> dict[int, str]:
    """Who enters mid-year (~4%), transfers between the two elementaries (~3% of all students)
    or withdraws (~1%); fixed counts, so even a small demo shows each case."""
    count = len(school_sis_ids)
    order = list(range(count))
    rng.shuffle(order)
    enters = order[: round(0.04 * count)]
    rest = order[len(enters) :]
    elementary = [index for index in rest if school_sis_ids[index].startswith("ES")]
    transfers = elementary[: round(0.03 * count)]
    moving = set(transfers)
    withdraws = [index for index in rest if index not in moving][: max(1, round(0.01 * count))]
    return (
        {index: "enters" for index in enters}
        | {index: "transfers" for index in transfers}
        | {index: "withdraws" for index in withdraws}
    )


def demo_student(rng: random.Random, *, district: District, index: int, grade: str, fall_year: int) -> Student:
    language = rng.choices(list(NAMES), weights=[lists[0] for lists in NAMES.values()])[0]
    race = rng.choices(*RACE_BY_LANGUAGE.get(language, ASIAN_RACES))[0]
    first_names, last_names, _, _ = NAME_LISTS[language]
    homeless, foster = rng.random() < 0.03, rng.random() < 0.01
    english_learner = language != "English" and rng.random() < ENGLISH_LEARNER_ODDS.get(grade, 0.18)
    econ_odds = 0.58 if language == "Spanish" else 0.43
    return Student(
        district=district,
        sis_id=str(4100001 + index),
        first_name=rng.choice(first_names),
        last_name=rng.choice(_last_names_for(language, race) or last_names),
        birth_date=_birth_date(rng, grade, fall_year),
        grade=grade,
        home_language=language,
        econ_disadvantaged=homeless or foster or rng.random() < econ_odds,
        disability=rng.random() < 0.14,
        english_learner=english_learner,
        race_ethnicity=race,
        homeless=homeless,
        foster=foster,
    )


def _last_names_for(language: str, race: str) -> list[str] | None:
    # English-speaking Latino and Asian families mostly keep their heritage surnames.
    if language == "English" and race == HISPANIC:
        return NAME_LISTS["Spanish"][1]
    if language == "English" and race == ASIAN:
        return NAME_LISTS["Vietnamese"][1] + NAME_LISTS["Mandarin"][1] + NAME_LISTS["Korean"][1]
    return None


def _birth_date(rng: random.Random, grade: str, fall_year: int) -> datetime.date:
    """Kindergarteners turn 5 by September 1 (North Carolina's cut-off); a few were held back a year."""
    age = 5 + GRADE_ORDER[grade] - GRADE_ORDER["K"] + (rng.random() < 0.04)
    latest = datetime.date(fall_year - age, 9, 1)
    return latest - datetime.timedelta(days=rng.randint(0, 364))


def demo_guardians(rng: random.Random, student: Student) -> list[Guardian]:
    """1–2 guardians; about 4% of students have no way to reach a guardian, which the data
    quality page is meant to surface: half have no guardian on file, half a name only."""
    roll = rng.random()
    if roll < 0.02:
        return []
    relationships = _relationships(rng, student)
    guardians = [_guardian(rng, student, relationship) for relationship in relationships]
    if len(guardians) == 2 and guardians[0].name == guardians[1].name:
        guardians.pop()
    if roll < 0.04:
        for guardian in guardians:
            guardian.phone, guardian.email, guardian.preferred_channel = "", "", ""
    return guardians


def _relationships(rng: random.Random, student: Student) -> list[str]:
    if student.foster:
        return ["Foster parent"]
    first = rng.choices(["Mother", "Father", "Grandmother", "Aunt"], weights=[70, 15, 10, 5])[0]
    if rng.random() >= 0.55:
        return [first]
    second = "Father" if first == "Mother" else rng.choice(["Mother", "Stepfather", "Grandfather"])
    return [first, second]


def _guardian(rng: random.Random, student: Student, relationship: str) -> Guardian:
    language = student.home_language
    _, last_names, women, men = NAME_LISTS[language]
    is_man = relationship in ("Father", "Stepfather", "Grandfather") or (
        relationship == "Foster parent" and rng.random() < 0.3
    )
    first_name = rng.choice(men if is_man else women)
    last_name = student.last_name if rng.random() < 0.8 else rng.choice(last_names)
    phone = f"{rng.choice(['919', '984', '336', '704'])}-555-01{rng.randint(0, 99):02d}" if rng.random() < 0.97 else ""
    email = f"{_ascii(first_name)}.{_ascii(last_name)}{rng.randint(1, 99)}@example.com" if rng.random() < 0.7 else ""
    channels = ["text", "phone", "email", "letter"]
    weights = [45 if phone else 0, 35 if phone else 0, 15 if email else 0, 5]
    return Guardian(
        district=student.district,
        name=f"{first_name} {last_name}",
        relationship=relationship,
        phone=phone,
        email=email,
        language="English" if language != "English" and rng.random() < 0.15 else language,
        preferred_channel=rng.choices(channels, weights=weights)[0],
    )


def _ascii(name: str) -> str:
    return re.sub(r"[^a-z]", "", unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower())
