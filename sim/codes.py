"""Integer codes for the categorical states of persons and programmes.

Persons are held column-wise (see :mod:`sim.agents.population`), so categorical states are
small integers; these enums give them their names in the domain's own words.
"""

from enum import IntEnum

# The 11 sectors of the model, each mapped to an mbo sector cluster in data/sectors.csv.
SECTORS: tuple[str, ...] = (
    "care",
    "technical",
    "construction",
    "logistics",
    "retail",
    "hospitality",
    "business",
    "ict",
    "green",
    "education",
    "other",
)
N_SECTORS = len(SECTORS)
SECTOR_INDEX = {s: i for i, s in enumerate(SECTORS)}
NO_SECTOR = -1


class Status(IntEnum):
    """What a person does this month."""

    SCHOOL = 0  # secondary school (vo), age 15 until leaving at vo_leave_age
    MBO_BOL = 1  # mbo student, school-based route
    MBO_BBL = 2  # mbo student, work-based route (holds a job in the programme's sector)
    OTHER_EDUCATION = 3  # havo/vwo, hbo, wo
    EMPLOYED = 4
    UNEMPLOYED = 5  # without work and looking
    INACTIVE = 6  # without work, not looking


N_STATUS = len(Status)
UNSET = -1  # status of a person not yet given one while the population is built
STATUS_NAMES = tuple(s.name.lower() for s in Status)


class Benefit(IntEnum):
    """Who pays the person's benefit, if anyone."""

    NONE = 0
    UWV = 1  # unemployment insurance (WW)
    MUNICIPALITY = 2  # social assistance (bijstand, Participatiewet)


class Route(IntEnum):
    BOL = 0
    BBL = 1


ROUTE_NAMES = ("BOL", "BBL")

# Qualification level: 0 = none beyond secondary school, 1-4 = mbo level, 5 = higher education.
HIGHER_EDUCATION_LEVEL = 5

# Reasons a person leaves the modelled population (15 up to pension age, living in the region).
EXIT_REASONS = ("death", "out_migration", "retirement")
ENTRY_REASONS = ("cohort", "in_migration")
