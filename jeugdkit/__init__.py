"""jeugdkit: research kit for Dutch youth-care microdata in the CBS Remote Access environment.

Stages, each importing only from the ones before it:
catalog -> discover -> read -> population (spells, link) -> measures -> output control -> report.
"""

__version__ = "0.1.0"
