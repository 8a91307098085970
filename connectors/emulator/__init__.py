"""A local Salesforce org: HTTPS, OAuth, REST, SOQL, Collections, Composite, Bulk, limits.

mapsync's demo, integration tests and benchmarks run against this org instead of a real one;
clients (simple-salesforce, jsforce, the sf CLI) talk to it exactly as to Salesforce. It
imports nothing from the rest of mapsync.

    from connectors.emulator.server import Emulator
    with Emulator(seed="demo") as org:          # org.instance_url, org.ca_file, org.client_id
        ...                                     # org.set_knobs(...), org.api_calls

Layout: ``schema``/``standard_objects``/``metadata_loader`` describe the objects,
``history`` declares their history objects, ``store`` holds the records (``history_writer``
records each save's history in the save's transaction, ``loading`` loads seeds), ``org``
ties one org together, ``gate`` applies per-call behaviour (timed by ``profile``, the
flat or realistic performance profile, through ``pace``),
``routes_*`` answer the resources, ``app`` mounts them, ``server`` serves them over TLS,
``cli`` runs an org until stopped, ``pytest_plugin`` gives tests a fresh org.
``permissions``/``sharing`` decide who may read and write what (permission sets, profiles,
field-level security, organisation-wide defaults), ``automation``/``formula`` refuse writes
as a customer's validation rules and triggers do; both reach every write through the
store's ``hooks``.
"""
