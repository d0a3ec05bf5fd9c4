# coursehub: per-student CUDA memory cap (logic in cuda_memory_cap.py, on the image's sys.path).
# Runs in every IPython kernel of the student image, from <venv>/etc/ipython/startup/.
# Does nothing unless COURSEHUB_CUDA_MEMORY_FRACTION is set; never stops a kernel;
# leaves no names behind in the student's namespace.


def _coursehub_cuda_memory_cap():
    try:
        import cuda_memory_cap

        cuda_memory_cap.apply()
    except Exception as exc:  # noqa: BLE001
        import sys

        print(f"coursehub: WARNING: CUDA memory cap hook failed: {exc}", file=sys.stderr)


_coursehub_cuda_memory_cap()
del _coursehub_cuda_memory_cap
