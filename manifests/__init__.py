"""The official split files, installed as package data: ffpp/{train,val,test}.json (FaceForensics++).

Read through importlib.resources (pipeline.dataset.splits.official_split_dir), so a wheel and a non-editable
install carry them.
"""
