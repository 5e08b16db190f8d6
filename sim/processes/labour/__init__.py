"""The labour market: demand, vacancies and matching (:mod:`.market`) and the supply that
responds to tightness: cross-border commuters and labour migrants (:mod:`.supply`)."""

from sim.processes.labour.market import LabourMarket, remove_from_buckets
from sim.processes.labour.supply import ABROAD, LabourSupply

__all__ = ["ABROAD", "LabourMarket", "LabourSupply", "remove_from_buckets"]
