"""The data stage on Ray Data (``data/engine=ray``): the same steps as the local engine, run as
Ray tasks over blocks of records, keeping the same records, training the same tokenizer and
writing the same token ids as token shards under the data cache's fingerprint.

Nothing here imports Ray at module level: composing a config stays Ray-free.
"""
