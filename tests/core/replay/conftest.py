from tests.core.recorder.desk import channels_path, data_dir, desks

__all__ = ["channels_path", "data_dir", "desks"]
