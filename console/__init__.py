"""The web console for people: school safety officers report, agency duty desks work their cases.

aiohttp + server-rendered Jinja2; every page and action goes through the case desk's access code.
May import contracts, alerts and consumers; only ops imports it.
"""
