"""Fake platform servers on 127.0.0.1 that the real tweepy and praw clients talk to."""
