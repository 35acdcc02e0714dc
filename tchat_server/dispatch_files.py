"""The file commands of an authenticated session (``upload_start``, ``upload_chunk``,
``download``) turned into ``FileService`` calls and their answers.

Registered through the dispatcher's ``extra_handlers``; errors raised here become
``error`` frames there, naming the request's ``rid``.
"""

from __future__ import annotations

from shared.codec import encode
from shared.frames_files import (
    Download,
    FileChunk,
    UploadChunk,
    UploadDone,
    UploadProgress,
    UploadReady,
    UploadStart,
)
from tchat_server.dispatch import Handler
from tchat_server.services.files import FileService, to_file_info
from tchat_server.session import Session

__all__ = ["FileHandlers"]


class FileHandlers:
    def __init__(self, files: FileService) -> None:
        self._files = files

    def handlers(self) -> dict[type, Handler]:
        return {
            UploadStart: self._upload_start,
            UploadChunk: self._upload_chunk,
            Download: self._download,
        }

    async def _upload_start(self, session: Session, frame: UploadStart) -> None:
        upload_id, offset = await self._files.upload_start(
            session.user_id, frame.room, frame.name, frame.size, frame.sha256, frame.mime
        )
        answer = UploadReady(
            upload=upload_id, offset=offset, chunk_size=self._files.chunk_size, rid=frame.rid
        )
        session.push(encode(answer))

    async def _upload_chunk(self, session: Session, frame: UploadChunk) -> None:
        result = await self._files.upload_chunk(
            session.user_id, frame.upload, frame.offset, frame.data
        )
        if result.file is None:
            session.push(
                encode(UploadProgress(upload=frame.upload, received=result.received, rid=frame.rid))
            )
        else:
            done = UploadDone(upload=frame.upload, file=to_file_info(result.file), rid=frame.rid)
            session.push(encode(done))

    async def _download(self, session: Session, frame: Download) -> None:
        row, data, eof = await self._files.download(
            session.user_id, frame.file, frame.offset, frame.length
        )
        chunk = FileChunk(
            file=to_file_info(row), offset=frame.offset, data=data, eof=eof, rid=frame.rid
        )
        session.push(encode(chunk))
