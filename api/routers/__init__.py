"""One APIRouter per area (FastAPI's "bigger applications" layout)."""
