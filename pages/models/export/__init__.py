"""The export pages: the wizard (/export), the library (/export/library), one export's viewer with its verification
and test player (/export/view/{export_id}) and its deployment guide (/export/guide/{export_id})."""
