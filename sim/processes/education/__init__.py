"""mbo education: the programme portfolio, September intake, July progression, April reviews.

A programme is one sector cluster × level × route (BOL/BBL) × site of an institution
(:mod:`.programmes`). Each September the secondary-school leavers split into mbo and other
education; mbo entrants choose among the open programmes within reach by a nested logit
(:mod:`.choice`): first a sector (image, employership, weakly prospects — the report: job
prospects hardly differ any more, image and employership decide), then a programme within it
(travel time, level fit, route). Alternative-specific constants are the log of each programme's
base-year intake; image and employership are changes from the base year. Programme places and
BBL places bind in rounds (:mod:`.allocation`). The base-year students are placed by a gravity
model (:mod:`.placement`); July moves students on (:mod:`.progression`); April reviews close
weak opleidingen and coverage is measured (:mod:`.provision`); institutions keep accounts
(:mod:`.finance`). :class:`Education` (:mod:`.process`) holds the state and wires them.
"""

from sim.processes.education.process import Education

__all__ = ["Education"]
