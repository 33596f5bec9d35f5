"""Rundeck job definitions: the model, its XML and YAML formats, validation and small value grammars."""
