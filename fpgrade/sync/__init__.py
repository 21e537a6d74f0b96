"""Label Studio sync (issue 12): push media with model pre-annotations, pull labels back.

fpgrade talks to a Label Studio server over HTTP only, with ``label-studio-sdk`` (imported inside
the functions). :mod:`.config` turns a scale into a labelling config and back (pure, no SDK);
:mod:`.client` connects and turns transport failures into one-line errors; :mod:`.push` and
:mod:`.pull` do the work.
"""
