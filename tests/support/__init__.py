"""Everything tests share: databases, clients, factories, API flows and money helpers.

Test modules import helpers from here only, never from each other.
"""
