"""Counting visits to a clinic's portal, for visitors who accepted analytics cookies (P08):
page views per day and page, and visitors per day, never who they were."""
