"""The money core: accounts, entries, postings, hash chain, Merkle tree, checkpoints.

The pure part (``encoding``, ``verify``, ``merkle``, ``checkpoint``, ``errors``) imports
neither Flask nor SQLAlchemy; the store part (``base``, ``models``, ``store``) persists
entries with SQLAlchemy. Nothing here knows about vouchers, shops or Flask.
"""
