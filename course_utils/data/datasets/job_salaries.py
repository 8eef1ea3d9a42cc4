"""Registry entry ``job_salaries``: the Adzuna job-ads salary data (YSDA's
``Train_rescaled.csv``) and, for small mode without it, a generated stand-in.

The real file is about 240,000 UK job ads (2013) with their title, full
description, category, company, location, contract type and time, and the
annualised salary ``SalaryNormalized``. It is not in the course's data mirror,
so offline small mode gets :func:`job_ads_like`: generated ads whose salary
depends on known words and fields (documented in :data:`SALARY_EFFECTS`), which
a model can learn but which say nothing about the real job market.

>>> from course_utils import data
>>> ads = data.load("job_salaries")          # a pandas DataFrame
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from course_utils.data.fetch import RemoteFile
from course_utils.data.registry import Dataset

#: Columns every loaded frame has (the real file has these and a few more:
#: Id, LocationRaw, SalaryRaw, SourceName).
JOB_COLUMNS = (
    "Title",
    "FullDescription",
    "LocationNormalized",
    "ContractType",
    "ContractTime",
    "Company",
    "Category",
    "SalaryNormalized",
)
TEXT_COLUMNS = ("Title", "FullDescription")
CATEGORICAL_COLUMNS = ("Category", "Company", "LocationNormalized", "ContractType", "ContractTime")

_URL = "https://ysda-seminars.s3.eu-central-1.amazonaws.com/Train_rescaled.csv"


def read_job_salaries(path) -> pd.DataFrame:
    """Read ``Train_rescaled.csv``; check its columns and that salaries are positive."""
    df = pd.read_csv(path)
    missing = [c for c in JOB_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(
            f"{path}: expected columns {list(JOB_COLUMNS)}, missing {missing} "
            f"(found {list(df.columns)[:15]})"
        )
    salary = pd.to_numeric(df["SalaryNormalized"], errors="coerce")
    if salary.isna().any() or (salary <= 0).any():
        raise ValueError(f"{path}: SalaryNormalized must be positive numbers")
    return df


# ------------------------------------------------------------------------- stand-in
# Category -> (job roles, base annual salary in GBP). Effects below are on the
# natural log of the salary: +0.10 is about 10.5 % more.
_CATEGORIES = {
    "IT Jobs": (
        [
            "software developer",
            "java developer",
            "python developer",
            "data analyst",
            "network engineer",
            "devops engineer",
            "web developer",
            "test analyst",
        ],
        38000,
    ),
    "Engineering Jobs": (
        [
            "mechanical engineer",
            "electrical engineer",
            "design engineer",
            "maintenance engineer",
            "project engineer",
            "quality engineer",
        ],
        33000,
    ),
    "Accounting & Finance Jobs": (
        [
            "accountant",
            "financial analyst",
            "credit controller",
            "payroll officer",
            "management accountant",
            "auditor",
        ],
        31000,
    ),
    "Healthcare & Nursing Jobs": (
        [
            "staff nurse",
            "care assistant",
            "healthcare assistant",
            "mental health nurse",
            "physiotherapist",
            "support worker",
        ],
        24000,
    ),
    "Sales Jobs": (
        [
            "sales executive",
            "account manager",
            "business development manager",
            "telesales advisor",
            "field sales representative",
        ],
        26000,
    ),
    "Teaching Jobs": (
        ["primary teacher", "maths teacher", "science teacher", "teaching assistant", "lecturer"],
        27000,
    ),
    "Hospitality & Catering Jobs": (
        [
            "chef de partie",
            "sous chef",
            "restaurant manager",
            "kitchen porter",
            "bar staff",
            "hotel receptionist",
        ],
        19000,
    ),
    "Legal Jobs": (["solicitor", "paralegal", "legal secretary", "conveyancer"], 36000),
}

#: The stand-in's salary rule, on log(salary): word effects apply when the word
#: appears in the title (seniority) or the description (skills, perks).
SALARY_EFFECTS = {
    "title": {
        "senior": 0.35,
        "lead": 0.30,
        "head": 0.45,
        "principal": 0.40,
        "junior": -0.30,
        "trainee": -0.45,
        "graduate": -0.25,
        "assistant": -0.20,
    },
    "description": {
        "phd": 0.15,
        "chartered": 0.20,
        "leadership": 0.15,
        "strategic": 0.12,
        "c++": 0.15,
        "kubernetes": 0.12,
        "bonus": 0.10,
        "equity": 0.12,
        "minimum": -0.20,
        "apprenticeship": -0.30,
        "temporary": -0.10,
        "entry-level": -0.20,
    },
    "ContractTime": {"full_time": 0.0, "part_time": -0.45},
    "ContractType": {"permanent": 0.0, "contract": 0.15},
    "LocationNormalized": {
        "London": 0.20,
        "Cambridge": 0.08,
        "Manchester": 0.0,
        "Leeds": -0.02,
        "Birmingham": 0.0,
        "Bristol": 0.03,
        "Edinburgh": 0.02,
        "Glasgow": -0.03,
        "Cardiff": -0.05,
        "Newcastle Upon Tyne": -0.06,
        "Nottingham": -0.04,
        "Sheffield": -0.05,
        "UK": 0.0,
    },
    "noise_sd": 0.12,
}

_COMPANIES = [
    "Hays",
    "Reed Recruitment",
    "Randstad",
    "Michael Page",
    "Harvey Nash",
    "Capita",
    "NHS Trust",
    "Serco",
    "Barclays",
    "Tesco",
    "BT Group",
    "Rolls-Royce",
    "BAE Systems",
    "Compass Group",
    "Whitbread",
    "Bupa",
    "Deloitte",
    "Sodexo",
    "Jaguar Land Rover",
    "Arup",
    "Atkins",
    "Premier Inn",
    "Pertemps",
    "Kelly Services",
    "Brook Street",
]
_SKILLS = {
    "IT Jobs": "sql linux agile javascript cloud aws testing c++ kubernetes git api databases",
    "Engineering Jobs": "autocad cad manufacturing hvac plc commissioning iso9001 welding",
    "Accounting & Finance Jobs": "sage excel reconciliations vat payroll ledger forecasting ifrs",
    "Healthcare & Nursing Jobs": "nmc patient ward dementia medication safeguarding nvq",
    "Sales Jobs": "b2b crm pipeline targets negotiation prospecting commission",
    "Teaching Jobs": "ks2 ks3 curriculum ofsted qts pupils lesson classroom",
    "Hospitality & Catering Jobs": "menu kitchen food hygiene guests rota fresh banqueting",
    "Legal Jobs": "litigation conveyancing probate contracts clients compliance",
}
_FILLER_SENTENCES = [
    "Our client is a well established {company} business based in {city}.",
    "We are looking for a motivated {role} to join a growing team.",
    "The successful candidate will have experience with {s1} and {s2}.",
    "You will work closely with colleagues across the {city} office.",
    "Knowledge of {s1} is essential and {s2} would be an advantage.",
    "This is an excellent opportunity to develop your career.",
    "Please apply with an up to date CV.",
    "Duties include day to day {s1}, {s2} and reporting to the manager.",
    "Excellent communication skills and attention to detail are required.",
]
_EFFECT_SENTENCES = {
    "phd": "A PhD in a relevant subject is preferred.",
    "chartered": "You will be chartered or working towards chartered status.",
    "leadership": "You will provide leadership to a team of specialists.",
    "strategic": "The role has a strategic focus on long term planning.",
    "c++": "Strong C++ skills are required.",
    "kubernetes": "Experience running Kubernetes in production is a plus.",
    "bonus": "The package includes an annual bonus and pension.",
    "equity": "Equity and share options are offered.",
    "minimum": "Pay is the national minimum wage.",
    "apprenticeship": "This apprenticeship includes college training.",
    "temporary": "This is a temporary position covering a busy period.",
    "entry-level": "This is an entry-level role, full training is given.",
}
_CITY_WEIGHTS = {
    "London": 5,
    "Manchester": 2,
    "Birmingham": 2,
    "Leeds": 1.5,
    "Bristol": 1.5,
    "Cambridge": 1,
    "Edinburgh": 1,
    "Glasgow": 1,
    "Cardiff": 1,
    "Newcastle Upon Tyne": 1,
    "Nottingham": 1,
    "Sheffield": 1,
    "UK": 1,
}


def job_ads_like(n_rows: int = 5000, seed: int = 0) -> pd.DataFrame:
    """Generated UK job ads with the real file's columns and a known salary rule.

    log(SalaryNormalized) = log(category base) + title seniority word + description
    words + contract type/time + location + a small company effect + Gaussian noise,
    with the effects of :data:`SALARY_EFFECTS`. Some ``ContractType``/``ContractTime``/
    ``Company`` values are missing (NaN), as in the real file.
    """
    if n_rows < 1:
        raise ValueError(f"n_rows must be >= 1, found {n_rows}")
    rng = np.random.default_rng(seed)
    eff = SALARY_EFFECTS
    categories = list(_CATEGORIES)
    cities = list(_CITY_WEIGHTS)
    city_p = np.array(list(_CITY_WEIGHTS.values()), dtype=float)
    city_p /= city_p.sum()
    company_effect = dict(zip(_COMPANIES, rng.normal(0.0, 0.05, len(_COMPANIES))))
    title_words = list(eff["title"])
    effect_words = list(_EFFECT_SENTENCES)
    rows = []
    for i in range(n_rows):
        category = categories[int(rng.integers(len(categories)))]
        roles, base = _CATEGORIES[category]
        role = roles[int(rng.integers(len(roles)))]
        log_salary = np.log(base)
        title = role.title()
        if rng.random() < 0.5:
            word = title_words[int(rng.integers(len(title_words)))]
            title = f"{word.title()} {title}"
            log_salary += eff["title"][word]
        city = cities[int(rng.choice(len(cities), p=city_p))]
        company = _COMPANIES[int(rng.integers(len(_COMPANIES)))]
        skills = _SKILLS[category].split()
        sentences = []
        for template in rng.choice(_FILLER_SENTENCES, size=int(rng.integers(4, 8)), replace=False):
            s1, s2 = rng.choice(skills, size=2, replace=False)
            sentences.append(
                template.format(
                    company=category.split()[0].lower(), city=city, role=role, s1=s1, s2=s2
                )
            )
        for word in rng.choice(effect_words, size=int(rng.integers(0, 3)), replace=False):
            sentences.insert(int(rng.integers(len(sentences) + 1)), _EFFECT_SENTENCES[word])
            log_salary += eff["description"][word]
        contract_time = "part_time" if rng.random() < 0.12 else "full_time"
        contract_type = "contract" if rng.random() < 0.2 else "permanent"
        log_salary += eff["ContractTime"][contract_time] + eff["ContractType"][contract_type]
        log_salary += eff["LocationNormalized"][city] + company_effect[company]
        log_salary += rng.normal(0.0, eff["noise_sd"])
        salary = float(np.round(np.exp(log_salary), -1))
        rows.append(
            {
                "Id": 10_000_000 + i,
                "Title": title,
                "FullDescription": " ".join(sentences),
                "LocationRaw": f"{city}, UK" if city != "UK" else "UK",
                "LocationNormalized": city,
                # missing values as in the real file (ContractType is often empty there)
                "ContractType": contract_type if rng.random() > 0.3 else np.nan,
                "ContractTime": contract_time if rng.random() > 0.1 else np.nan,
                "Company": company if rng.random() > 0.1 else np.nan,
                "Category": category,
                "SalaryRaw": f"{salary:.0f}/annum",
                "SalaryNormalized": int(salary),
                "SourceName": "standin.example",
            }
        )
    return pd.DataFrame(rows)


def _load(get, split):
    return read_job_salaries(get("train"))


JOB_SALARIES = Dataset(
    name="job_salaries",
    description="Adzuna UK job ads (2013) with annual salary: Title, FullDescription, Category, "
    "Company, LocationNormalized, ContractType, ContractTime, SalaryNormalized; about 240,000 rows",
    license="Adzuna Job Salary Prediction competition data (Kaggle, 2013): research and education",
    homepage="https://www.kaggle.com/c/job-salary-prediction",
    files={"train": RemoteFile("Train_rescaled.csv", urls=(_URL,), sha256=None, size=None)},
    loader=_load,
    standin=lambda split: (
        job_ads_like(5000, seed=0),
        "5,000 GENERATED job ads whose salary follows a known rule "
        "(course_utils.data.datasets.job_salaries.SALARY_EFFECTS), not Adzuna data",
    ),
    notes="Not in the data mirror. The file's checksum is not known offline: trusted on "
    "first download (about 120 MB).",
)

ENTRIES = (JOB_SALARIES,)
