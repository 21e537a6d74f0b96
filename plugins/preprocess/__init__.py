"""Built-in preprocessors: loading, face landmarks, crops and masks, video sampling, measurements."""
