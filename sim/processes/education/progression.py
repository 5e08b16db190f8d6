"""July, the end of the school year: dropout, progression, graduation and doorstroom in mbo;
leaving other education (havo/vwo, hbo, wo)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.codes import HIGHER_EDUCATION_LEVEL, N_SECTORS, Status
from sim.processes.education.allocation import matched_places
from sim.processes.education.provision import nearest_open_programme
from sim.sampling import first_within_capacity

if TYPE_CHECKING:
    from sim.processes.education.process import Education


def graduate_delay(edu: Education, n: int) -> np.ndarray:
    """Minus the months before each of ``n`` graduates starts looking for work: spread evenly
    over ``labour.graduate_entry_months`` from July (the labour market matches only job seekers
    with ``months_in_state >= 0``)."""
    months = edu.model.cfg.model.labour.graduate_entry_months
    return -edu.rng_progress.integers(0, months, size=n).astype(np.int16)


def end_of_school_year(edu: Education) -> None:
    """July: dropout, progression and graduation in mbo; leaving other education."""
    model, pop, cfg, p, rng = edu.model, edu.model.pop, edu.cfg, edu.programmes, edu.rng_progress
    y = model.year_index - 1  # the school year that started last September
    # other education first (so that mbo-4 graduates entering hbo now start at year 0)
    # (havo/vwo, hbo, wo): leave after other_education_years
    oe = np.flatnonzero(pop.status == Status.OTHER_EDUCATION)
    pop.study_year[oe] += 1
    leave = oe[pop.study_year[oe] >= cfg.other_education_years]
    pop.status[leave] = Status.UNEMPLOYED
    pop.qual_level[leave] = np.maximum(pop.qual_level[leave], HIGHER_EDUCATION_LEVEL)
    shares = model.data.employment_shares
    pop.qual_sector[leave] = rng.choice(N_SECTORS, size=leave.size, p=shares)
    pop.sector[leave] = pop.qual_sector[leave]
    pop.months_in_state[leave] = graduate_delay(edu, leave.size)
    students = np.flatnonzero((pop.status == Status.MBO_BOL) | (pop.status == Status.MBO_BBL))
    prog = pop.programme[students]
    level = p.level[prog]
    drop = rng.random(students.size) < np.asarray(cfg.dropout_rate)[level - 1]
    dropouts = students[drop]
    bbl_drop = dropouts[pop.status[dropouts] == Status.MBO_BBL]
    bol_drop = dropouts[pop.status[dropouts] == Status.MBO_BOL]
    if y >= 0:
        edu.dropouts[y] = np.bincount(prog[drop], minlength=p.n)
    ring_graduates, ring_dropouts = edu.ring.july(y)  # the ring's students (not residents)
    if y >= 0:
        edu.dropouts[y] += ring_dropouts
    pop.status[bbl_drop] = Status.EMPLOYED  # keeps the job, without the diploma
    pop.status[bol_drop] = Status.UNEMPLOYED
    pop.programme[dropouts] = -1
    pop.months_in_state[dropouts] = 0
    stay = students[~drop]
    pop.study_year[stay] += 1
    done = pop.study_year[stay] >= p.duration[pop.programme[stay]]
    grads = stay[done]
    gprog = pop.programme[grads]
    if y >= 0:
        edu.graduates[y] = np.bincount(gprog, minlength=p.n) + ring_graduates
    pop.qual_sector[grads] = p.sector[gprog]
    pop.qual_level[grads] = np.maximum(pop.qual_level[grads], p.level[gprog])
    bbl = pop.status[grads] == Status.MBO_BBL
    pop.status[grads[bbl]] = Status.EMPLOYED
    bol = grads[~bbl]
    to_he = (p.level[pop.programme[bol]] == 4) & (rng.random(bol.size) < cfg.to_higher_education_l4)
    he = bol[to_he]
    pop.status[he] = Status.OTHER_EDUCATION
    pop.study_year[he] = max(cfg.other_education_years - 4, 0)
    rest = bol[~to_he]
    # doorstroom: some BOL graduates continue at the next level in the same sector
    glevel = p.level[pop.programme[rest]]
    rate = np.asarray([*cfg.continue_next_level, 0.0])[glevel - 1]
    go_on = (glevel < 4) & (rng.random(rest.size) < rate)
    may = np.flatnonzero(rate > 0)  # the programme each would continue at, and its expectation
    target = np.full(rest.size, -1, dtype=np.int64)
    target[may] = nearest_open_programme(edu, rest[may], p.sector[pop.programme[rest[may]]], glevel[may] + 1,
                                         exact_level=True)
    known = target >= 0
    # they come first, within the places (the model's share of the real places, matched_places)
    capacity = edu.places()
    places, edu.expected_continuing[model.year_index] = matched_places(
        edu.rng_admission, np.bincount(target[known], weights=rate[known], minlength=p.n), capacity,
        model.cfg.scale)
    places = np.minimum(places, edu.most_admitted(capacity))
    cont, nxt = rest[go_on & known], target[go_on & known]
    admit = first_within_capacity(rng, nxt, places)
    cont, nxt = cont[admit], nxt[admit]
    seekers = np.setdiff1d(rest, cont, assume_unique=True)
    pop.status[seekers] = Status.UNEMPLOYED
    pop.sector[seekers] = p.sector[pop.programme[seekers]]
    pop.programme[grads] = -1
    pop.months_in_state[grads] = 0
    pop.months_in_state[seekers] = graduate_delay(edu, seekers.size)
    edu.enrol(cont, nxt)
    edu.continuing[model.year_index] += np.bincount(nxt, minlength=p.n)  # counted in September
