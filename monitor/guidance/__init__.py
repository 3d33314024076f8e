"""Guidance for the social media team: playbooks, saved replies and the draft checker."""
