"""Browsing the archive by ethnic group, place, category and collection; sitemap.xml and robots.txt."""
