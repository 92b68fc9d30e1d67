"""Domains that ship with plansentry, each a kit found through the ``plansentry.domains`` entry point.

Nothing outside this package imports it: the generic layers find kits by name
(:func:`plansentry.runtime.kit.load_kit`), as they find a third party's.
"""
